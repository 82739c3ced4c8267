// The archive writer's state in PostgreSQL (db/migrations/004_archive.sql): claiming partitions,
// flush intents, and the commit of a flush — offsets, watermark and lake_days in ONE transaction.
// Every write that acts for a partition first checks, under a row lock, that the partition still
// has the epoch and next offset this writer holds (the fence): a writer that lost the partition to
// another one during a rebalance can neither announce nor commit a flush.
import type { ExternalPartitionClock } from '../../stream/watermark-tracker.ts';
import type { Queryable } from '../db/database.ts';
import { groupClocks, loadStoredWatermark } from '../hot-sink/checkpoint-store.ts';
import type { CommittedPartitionRow } from '../hot-sink/checkpoint-store.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../hot-sink/timestamps.ts';

export class ArchiveFencedError extends Error {
  readonly code = 'ARCHIVE_FENCED';
  readonly retriable = true;
  constructor(source: string, partition: number, detail: string) {
    super(`archive partition ${source}#${partition} belongs to another writer now (${detail})`);
    this.name = 'ArchiveFencedError';
  }
}

/** What this writer holds for a partition it owns. */
export interface PartitionClaim {
  readonly source: string;
  readonly partition: number;
  /** Bumped by every claim; the fence compares it. Decimal string (BIGINT). */
  readonly epoch: string;
  /** Next offset to archive; null = from the earliest. */
  readonly nextOffset: string | null;
  /** Largest event_ts archived from the partition (−∞ before the first). */
  readonly maxEventTs: number;
}

/**
 * Takes partitions over: bumps each one's epoch (creating its row on first use) and returns where
 * to resume. From here on, flushes of any earlier owner are refused.
 */
export async function claimPartitions(
  db: Queryable,
  consumer: string,
  source: string,
  partitions: readonly number[],
): Promise<PartitionClaim[]> {
  const result = await db.query<{ p: number; next: string | null; epoch: string; mx: unknown }>(
    `INSERT INTO archive_partitions AS a (consumer, source, kafka_partition)
     SELECT $1, $2, p FROM unnest($3::int[]) AS p
     ON CONFLICT (consumer, source, kafka_partition) DO UPDATE SET epoch = a.epoch + 1, updated_at = now()
     RETURNING kafka_partition AS p, next_offset::text AS next, epoch::text AS epoch, ${epochMs('max_event_ts')} AS mx`,
    [consumer, source, [...partitions]],
  );
  return result.rows
    .map((r) => ({ source, partition: r.p, epoch: r.epoch, nextOffset: r.next, maxEventTs: fromSqlEpoch(r.mx) }))
    .sort((a, b) => a.partition - b.partition);
}

export interface IntentRow {
  readonly partition: number;
  readonly key: string;
  readonly epoch: string;
}

/** Intents left by earlier owners of these partitions (their flush did not commit). */
export async function loadStaleIntents(db: Queryable, consumer: string, claims: readonly PartitionClaim[]): Promise<IntentRow[]> {
  if (claims.length === 0) return [];
  const result = await db.query<{ p: number; key: string; epoch: string }>(
    `SELECT i.kafka_partition AS p, i.object_key AS key, i.epoch::text AS epoch
       FROM archive_intents i JOIN unnest($3::int[], $4::bigint[]) AS c(p, e) ON i.kafka_partition = c.p
      WHERE i.consumer = $1 AND i.source = $2 AND i.epoch < c.e
      ORDER BY i.kafka_partition, i.object_key`,
    [consumer, claims[0]!.source, claims.map((c) => c.partition), claims.map((c) => c.epoch)],
  );
  return result.rows.map((r) => ({ partition: r.p, key: r.key, epoch: r.epoch }));
}

async function fence(tx: Queryable, consumer: string, claims: readonly PartitionClaim[]): Promise<void> {
  if (claims.length === 0) return;
  const source = claims[0]!.source;
  const stored = await tx.query<{ p: number; next: string | null; epoch: string }>(
    `SELECT kafka_partition AS p, next_offset::text AS next, epoch::text AS epoch FROM archive_partitions
      WHERE consumer = $1 AND source = $2 AND kafka_partition = ANY($3::int[])
      ORDER BY kafka_partition FOR UPDATE`,
    [consumer, source, claims.map((c) => c.partition)],
  );
  const found = new Map(stored.rows.map((r) => [r.p, r]));
  for (const claim of claims) {
    const row = found.get(claim.partition);
    if (row === undefined) throw new ArchiveFencedError(source, claim.partition, 'its row is gone');
    if (row.epoch !== claim.epoch) throw new ArchiveFencedError(source, claim.partition, `epoch ${claim.epoch} → ${row.epoch}`);
    if (row.next !== claim.nextOffset) {
      throw new ArchiveFencedError(source, claim.partition, `expected next offset ${claim.nextOffset ?? 'none'}, found ${row.next ?? 'none'}`);
    }
  }
}

/** Records, fenced, the objects a flush is about to upload (before the upload starts). */
export async function writeIntents(
  tx: Queryable,
  consumer: string,
  claims: readonly PartitionClaim[],
  objects: readonly { readonly partition: number; readonly key: string }[],
): Promise<void> {
  await fence(tx, consumer, claims);
  if (objects.length === 0) return;
  const epochOf = new Map(claims.map((c) => [c.partition, c.epoch]));
  await tx.query(
    `INSERT INTO archive_intents (consumer, source, kafka_partition, object_key, epoch)
     SELECT $1, $2, p, k, e FROM unnest($3::int[], $4::text[], $5::bigint[]) AS x(p, k, e)
     ON CONFLICT (consumer, source, kafka_partition, object_key) DO UPDATE SET epoch = excluded.epoch, created_at = now()`,
    [consumer, claims[0]!.source, objects.map((o) => o.partition), objects.map((o) => o.key), objects.map((o) => epochOf.get(o.partition))],
  );
}

export interface PartitionFlush {
  readonly claim: PartitionClaim;
  /** Last flushed offset + 1. */
  readonly nextOffset: string;
  readonly maxEventTs: number;
  readonly lastMessageAt: number;
}

/**
 * Commits a flush whose objects are all in the lake: fenced offsets, the partitions' clocks, the
 * end of their intents, the event dates (marked dirty when their cold run is already done), and
 * the archive watermark (never backwards).
 */
export async function commitFlush(
  tx: Queryable,
  consumer: string,
  flushes: readonly PartitionFlush[],
  eventDates: readonly string[],
  watermark: number,
): Promise<void> {
  await fence(tx, consumer, flushes.map((f) => f.claim));
  if (flushes.length > 0) {
    const source = flushes[0]!.claim.source;
    await tx.query(
      `UPDATE archive_partitions a SET next_offset = x.n, max_event_ts = GREATEST(a.max_event_ts, x.m), last_message_at = x.l, updated_at = now()
         FROM unnest($3::int[], $4::bigint[], $5::timestamptz[], $6::timestamptz[]) AS x(p, n, m, l)
        WHERE a.consumer = $1 AND a.source = $2 AND a.kafka_partition = x.p`,
      [
        consumer,
        source,
        flushes.map((f) => f.claim.partition),
        flushes.map((f) => f.nextOffset),
        flushes.map((f) => toSqlTimestamp(f.maxEventTs)),
        flushes.map((f) => toSqlTimestamp(f.lastMessageAt)),
      ],
    );
    await tx.query(`DELETE FROM archive_intents WHERE consumer = $1 AND source = $2 AND kafka_partition = ANY($3::int[])`, [
      consumer,
      source,
      flushes.map((f) => f.claim.partition),
    ]);
  }
  if (eventDates.length > 0) {
    // A date whose cold marts were computed before this event reached the lake must be recomputed.
    await tx.query(
      `INSERT INTO lake_days AS d (event_date) SELECT DISTINCT x FROM unnest($1::date[]) AS x ORDER BY x
       ON CONFLICT (event_date) DO UPDATE SET dirty_since = now() WHERE d.cold_computed_at IS NOT NULL`,
      [[...eventDates]],
    );
  }
  await advanceWatermark(tx, consumer, watermark);
}

/** Raises the stored archive watermark to `watermark` (no-op when it is not higher, or −∞). */
export async function advanceWatermark(tx: Queryable, consumer: string, watermark: number): Promise<void> {
  if (watermark === Number.NEGATIVE_INFINITY) return;
  await tx.query(
    `INSERT INTO archive_watermark AS w (consumer, watermark_ts) VALUES ($1, $2::timestamptz)
     ON CONFLICT (consumer) DO UPDATE SET watermark_ts = excluded.watermark_ts, updated_at = now()
      WHERE excluded.watermark_ts > w.watermark_ts`,
    [consumer, toSqlTimestamp(watermark)],
  );
}

export async function loadArchiveWatermark(db: Queryable, consumer: string): Promise<number | undefined> {
  return loadStoredWatermark(db, 'archive_watermark', consumer);
}

/**
 * The group's partitions as last committed, for the ones other writers own. With the log's end
 * offsets, a partition is caught up when everything up to its end is archived.
 */
export async function loadArchiveGroupClocks(
  db: Queryable,
  consumer: string,
  source: string,
  logEnds?: ReadonlyMap<number, string>,
): Promise<ExternalPartitionClock[]> {
  const result = await db.query<CommittedPartitionRow>(
    `SELECT kafka_partition AS p, next_offset::text AS next, ${epochMs('max_event_ts')} AS mx,
            ${epochMs('coalesce(last_message_at, updated_at)')} AS at
       FROM archive_partitions WHERE consumer = $1 AND source = $2`,
    [consumer, source],
  );
  return groupClocks(result.rows, logEnds);
}
