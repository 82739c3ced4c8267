// Loads a partition's checkpoint (offsets, watermark, operator state) for the stream processor.
import type { ClickEvent } from '../../marts/types.ts';
import type { SessionAnomalySnapshot } from '../../stream/anomaly-detector.ts';
import type { BucketKind, PartitionCheckpoint, StoredBucket } from '../../stream/checkpoint-types.ts';
import type { GroupBucketData } from '../../stream/group-buckets.ts';
import type { ExternalPartitionClock } from '../../stream/watermark-tracker.ts';
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch } from './timestamps.ts';

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
  top_frontier: unknown;
  trend_frontier: unknown;
  retain_from: unknown;
  anomaly_state: Record<string, SessionAnomalySnapshot> | string;
}

export async function loadPartitionCheckpoint(
  db: Queryable,
  consumer: string,
  source: string,
  partition: number,
): Promise<PartitionCheckpoint> {
  const head = await db.query<PartitionRow>(
    `SELECT next_offset::text AS next_offset, ${epochMs('max_event_ts')} AS max_ts, ${epochMs('watermark_ts')} AS wm,
            ${epochMs('top_frontier')} AS top_frontier, ${epochMs('trend_frontier')} AS trend_frontier,
            ${epochMs('retain_from')} AS retain_from, anomaly_state
       FROM stream_partitions WHERE consumer = $1 AND source = $2 AND kafka_partition = $3`,
    [consumer, source, partition],
  );
  const row = head.rows[0];
  if (row === undefined) {
    return { source, partition, nextOffset: null, maxEventTs: Number.NEGATIVE_INFINITY, watermark: Number.NEGATIVE_INFINITY, topFrontier: null, trendFrontier: null, anomaly: {}, buckets: [], pendingEvents: [] };
  }
  const retainFrom = fromSqlEpoch(row.retain_from);
  const buckets = await db.query<{ kind: BucketKind; start: unknown; state: string }>(
    `SELECT kind, ${epochMs('bucket_start')} AS start, state FROM stream_state_buckets
      WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 ORDER BY kind, bucket_start`,
    [consumer, source, partition],
  );
  const events = await db.query<{ ts: unknown; event_id: string; session_id: string; document_id: string; title: string | null; clinical_area: string }>(
    `SELECT ${epochMs('event_ts')} AS ts, event_id, session_id, document_id::text AS document_id, title, clinical_area
       FROM stream_pending_events
      WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND event_ts >= $4::timestamptz
      ORDER BY seq`,
    [consumer, source, partition, Number.isFinite(retainFrom) ? new Date(retainFrom).toISOString() : retainFrom > 0 ? 'infinity' : '-infinity'],
  );
  const storedBuckets: StoredBucket[] = buckets.rows.map((b) => ({
    kind: b.kind,
    start: fromSqlEpoch(b.start),
    data: JSON.parse(b.state) as GroupBucketData,
  }));
  const pendingEvents: ClickEvent[] = events.rows.map((e) => ({
    eventId: e.event_id,
    eventTs: fromSqlEpoch(e.ts),
    sessionId: e.session_id,
    documentId: e.document_id,
    title: e.title,
    clinicalArea: e.clinical_area,
  }));
  const nullable = (v: unknown): number | null => (v === null || v === undefined ? null : fromSqlEpoch(v));
  return {
    source,
    partition,
    nextOffset: row.next_offset,
    maxEventTs: fromSqlEpoch(row.max_ts),
    watermark: fromSqlEpoch(row.wm),
    topFrontier: nullable(row.top_frontier),
    trendFrontier: nullable(row.trend_frontier),
    anomaly: reviveAnomalyState(row.anomaly_state),
    buckets: storedBuckets,
    pendingEvents,
  };
}

/** The sink stores ±Infinity as strings (JSON has none); turn them back into numbers. */
function reviveAnomalyState(stored: Record<string, SessionAnomalySnapshot> | string): Record<string, SessionAnomalySnapshot> {
  const state = typeof stored === 'string' ? (JSON.parse(stored) as Record<string, SessionAnomalySnapshot>) : stored;
  const out: Record<string, SessionAnomalySnapshot> = {};
  for (const [sessionId, snapshot] of Object.entries(state)) out[sessionId] = { ...snapshot, frozenTs: Number(snapshot.frozenTs) };
  return out;
}
