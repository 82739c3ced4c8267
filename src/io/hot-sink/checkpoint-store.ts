// Loads a partition's checkpoint (offsets, watermark, operator state) for the stream processor.
import type { ClickEvent } from '../../marts/types.ts';
import type { SessionAnomalySnapshot } from '../../stream/anomaly-detector.ts';
import type { BucketKind, ExternalPartitionUpdate, Frontiers, PartitionCheckpoint, StoredBucket } from '../../stream/checkpoint-types.ts';
import type { ExternalPartitionClock } from '../../stream/watermark-tracker.ts';
import type { Queryable } from '../db/database.ts';
import { decodePendingEvents } from './pending-events.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from './timestamps.ts';

export async function loadConsumerWatermark(db: Queryable, consumer: string): Promise<number | undefined> {
  return loadStoredWatermark(db, 'stream_consumers', consumer);
}

/**
 * A consumer's persisted watermark from the stream's (stream_consumers) or the archive's
 * (archive_watermark) table; undefined before its first commit.
 */
export async function loadStoredWatermark(db: Queryable, table: 'stream_consumers' | 'archive_watermark', consumer: string): Promise<number | undefined> {
  // The table name is one of two constants (the type above), never input.
  const result = await db.query<{ wm: unknown }>(`SELECT ${epochMs('watermark_ts')} AS wm FROM ${table} WHERE consumer = $1`, [consumer]);
  const row = result.rows[0];
  return row === undefined ? undefined : fromSqlEpoch(row.wm);
}

/** Every partition of the group as last committed, by whichever instance owns it (see groupClocks). */
export async function loadGroupClocks(
  db: Queryable,
  consumer: string,
  source: string,
  logEnds?: ReadonlyMap<number, string>,
): Promise<ExternalPartitionClock[]> {
  const result = await db.query<CommittedPartitionRow>(
    `SELECT kafka_partition AS p, next_offset::text AS next, ${epochMs('max_event_ts')} AS mx, ${epochMs('updated_at')} AS at
       FROM stream_partitions WHERE consumer = $1 AND source = $2`,
    [consumer, source],
  );
  return groupClocks(result.rows, logEnds);
}

/** A committed partition row: its next offset (null: none yet), newest event time and commit time, as SQL epochs. */
export interface CommittedPartitionRow {
  readonly p: number;
  readonly next: string | null;
  readonly mx: unknown;
  readonly at: unknown;
}

/**
 * The group's clocks from committed partition rows (the stream's or the archive's). With the
 * log's end offsets, partitions nobody has committed yet count too (at −∞), and each is marked
 * caught up or not; without them, every committed partition counts as caught up.
 */
export function groupClocks(rows: readonly CommittedPartitionRow[], logEnds?: ReadonlyMap<number, string>): ExternalPartitionClock[] {
  const committed = new Map(rows.map((r) => [r.p, r]));
  const partitions = new Set<number>([...committed.keys(), ...(logEnds?.keys() ?? [])]);
  return [...partitions].map((partition) => {
    const row = committed.get(partition);
    const end = logEnds?.get(partition);
    const next = row?.next === null || row === undefined ? 0n : BigInt(row.next);
    return {
      partition,
      maxEventTs: row === undefined ? Number.NEGATIVE_INFINITY : fromSqlEpoch(row.mx),
      committedAt: row === undefined ? Number.NEGATIVE_INFINITY : fromSqlEpoch(row.at),
      caughtUp: end === undefined ? true : next >= BigInt(end),
    };
  });
}

export async function loadNextOffsets(
  db: Queryable,
  consumer: string,
  source: string,
  partitions: readonly number[],
): Promise<Map<number, string | null>> {
  const result = await db.query<{ kafka_partition: number; next_offset: string }>(
    `SELECT kafka_partition, next_offset::text AS next_offset FROM stream_partitions
      WHERE consumer = $1 AND source = $2 AND kafka_partition = ANY($3::int[])`,
    [consumer, source, [...partitions]],
  );
  const offsets = new Map<number, string | null>(partitions.map((p) => [p, null]));
  for (const row of result.rows) offsets.set(row.kafka_partition, row.next_offset);
  return offsets;
}

interface PartitionRow {
  next_offset: string;
  max_ts: unknown;
  wm: unknown;
  retain_from: unknown;
  anomaly_state: Record<string, SessionAnomalySnapshot> | string;
}

interface BucketRow {
  kafka_partition: number;
  kind: BucketKind;
  start: unknown;
  state: string;
  is_final: boolean;
  version: string;
}

function storedBucket(b: BucketRow): StoredBucket {
  return { kind: b.kind, start: fromSqlEpoch(b.start), final: b.is_final, data: JSON.parse(b.state) as unknown };
}

export async function loadPartitionCheckpoint(
  db: Queryable,
  consumer: string,
  source: string,
  partition: number,
): Promise<PartitionCheckpoint> {
  const head = await db.query<PartitionRow>(
    `SELECT next_offset::text AS next_offset, ${epochMs('max_event_ts')} AS max_ts, ${epochMs('watermark_ts')} AS wm,
            ${epochMs('retain_from')} AS retain_from, anomaly_state
       FROM stream_partitions WHERE consumer = $1 AND source = $2 AND kafka_partition = $3`,
    [consumer, source, partition],
  );
  const row = head.rows[0];
  if (row === undefined) {
    return { source, partition, nextOffset: null, maxEventTs: Number.NEGATIVE_INFINITY, watermark: Number.NEGATIVE_INFINITY, anomaly: {}, buckets: [], pendingEvents: [] };
  }
  const retainFrom = fromSqlEpoch(row.retain_from);
  const buckets = await db.query<BucketRow>(
    `SELECT kafka_partition, kind, ${epochMs('bucket_start')} AS start, state, is_final, version::text AS version FROM stream_state_buckets
      WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND is_final ORDER BY kind, bucket_start`,
    [consumer, source, partition],
  );
  const batches = await db.query<{ events: string }>(
    `SELECT events FROM stream_pending_batches
      WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND max_event_ts >= $4::timestamptz
      ORDER BY seq`,
    [consumer, source, partition, toSqlTimestamp(retainFrom)],
  );
  const pendingEvents: ClickEvent[] = [];
  for (const b of batches.rows) for (const e of decodePendingEvents(b.events)) if (e.eventTs >= retainFrom) pendingEvents.push(e);
  return {
    source,
    partition,
    nextOffset: row.next_offset,
    maxEventTs: fromSqlEpoch(row.max_ts),
    watermark: fromSqlEpoch(row.wm),
    anomaly: reviveAnomalyState(row.anomaly_state),
    buckets: buckets.rows.map(storedBucket),
    pendingEvents,
  };
}

/** The combiner's stored frontiers for a source (null before its first commit). */
export async function loadCombinerFrontiers(db: Queryable, consumer: string, source: string): Promise<Frontiers | null> {
  const result = await db.query<{ traffic: unknown; top: unknown; trend: unknown }>(
    `SELECT ${epochMs('traffic_frontier')} AS traffic, ${epochMs('top_frontier')} AS top, ${epochMs('trend_frontier')} AS trend
       FROM stream_combiner WHERE consumer = $1 AND source = $2`,
    [consumer, source],
  );
  const row = result.rows[0];
  return row === undefined ? null : { traffic: fromSqlEpoch(row.traffic), top: fromSqlEpoch(row.top), trend: fromSqlEpoch(row.trend) };
}

/**
 * What the combiner needs of the partitions other instances own: their committed bounds, and the
 * buckets written since the versions already read, per partition. Versions are compared per
 * partition because only there they follow commit order: a partition's commits are serialised by
 * the lock its fence takes, while two instances' transactions may commit out of version order.
 */
export async function loadExternalPartitions(
  db: Queryable,
  consumer: string,
  source: string,
  owned: readonly number[],
  clocks: readonly ExternalPartitionClock[],
  readVersions: ReadonlyMap<number, bigint>,
): Promise<{ updates: ExternalPartitionUpdate[]; versions: Map<number, bigint> }> {
  // From the least version read; a partition read for the first time reads everything.
  let sinceVersion: bigint | null = null;
  for (const v of readVersions.values()) if (sinceVersion === null || v < sinceVersion) sinceVersion = v;
  if (clocks.some((c) => !owned.includes(c.partition) && !readVersions.has(c.partition))) sinceVersion = 0n;
  sinceVersion ??= 0n;
  const heads = await db.query<{ p: number; wm: unknown }>(
    `SELECT kafka_partition AS p, ${epochMs('watermark_ts')} AS wm FROM stream_partitions
      WHERE consumer = $1 AND source = $2 AND NOT (kafka_partition = ANY($3::int[]))`,
    [consumer, source, [...owned]],
  );
  const buckets = await db.query<BucketRow>(
    `SELECT kafka_partition, kind, ${epochMs('bucket_start')} AS start, state, is_final, version::text AS version FROM stream_state_buckets
      WHERE consumer = $1 AND source = $2 AND NOT (kafka_partition = ANY($3::int[])) AND version > $4::bigint
      ORDER BY version`,
    [consumer, source, [...owned], sinceVersion.toString()],
  );
  const byPartition = new Map<number, StoredBucket[]>();
  const versions = new Map(readVersions);
  for (const b of buckets.rows) {
    const version = BigInt(b.version);
    const read = readVersions.get(b.kafka_partition) ?? 0n;
    if (version <= read) continue;
    byPartition.set(b.kafka_partition, [...(byPartition.get(b.kafka_partition) ?? []), storedBucket(b)]);
    if (version > (versions.get(b.kafka_partition) ?? 0n)) versions.set(b.kafka_partition, version);
  }
  for (const c of clocks) if (!owned.includes(c.partition) && !versions.has(c.partition)) versions.set(c.partition, 0n);
  const watermarks = new Map(heads.rows.map((r) => [r.p, fromSqlEpoch(r.wm)]));
  const partitions = new Set<number>([...watermarks.keys(), ...byPartition.keys(), ...clocks.map((c) => c.partition)]);
  for (const p of owned) partitions.delete(p);
  const updates = [...partitions].map((partition) => ({
    partition,
    watermark: watermarks.get(partition) ?? null,
    backlog: clocks.some((c) => c.partition === partition && !c.caughtUp),
    buckets: byPartition.get(partition) ?? [],
  }));
  return { updates, versions };
}

/** The sink stores ±Infinity as strings (JSON has none); turn them back into numbers. */
function reviveAnomalyState(stored: Record<string, SessionAnomalySnapshot> | string): Record<string, SessionAnomalySnapshot> {
  const state = typeof stored === 'string' ? (JSON.parse(stored) as Record<string, SessionAnomalySnapshot>) : stored;
  const out: Record<string, SessionAnomalySnapshot> = {};
  for (const [sessionId, snapshot] of Object.entries(state)) out[sessionId] = { ...snapshot, frozenTs: Number(snapshot.frozenTs) };
  return out;
}
