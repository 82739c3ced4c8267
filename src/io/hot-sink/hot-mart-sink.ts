// Writes one micro-batch — hot-mart rows, dead letters, late events, alerts, offsets, watermark
// and operator state — in ONE transaction. The stored offsets double as a fence: if another
// instance committed a partition since we loaded it, the batch is refused and nothing is written.
import type { AnomalyAlert } from '../../stream/anomaly-detector.ts';
import type { ClinicalTrendRow, TopDocRow, TrafficMinuteRow } from '../../marts/types.ts';
import type { BatchOutput, Frontiers, MartWrites, PartitionCommit } from '../../stream/checkpoint-types.ts';
import type { KeyedRows } from '../../stream/operators/hot-operator.ts';
import { HOT_MARTS } from '../../marts/mart-registry.ts';
import type { Queryable } from '../db/database.ts';
import { DEFAULT_DEAD_LETTER_MAX_BYTES } from '../../marts/types.ts';
import { rawParts, storableText } from './dead-letter-raw.ts';
import { encodePendingEvents } from './pending-events.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from './timestamps.ts';

export class CheckpointFencedError extends Error {
  readonly code = 'CHECKPOINT_FENCED';
  readonly retriable = true;
  constructor(source: string, partition: number, expected: string | null, found: string | null) {
    super(`partition ${source}#${partition} was committed by another owner (expected offset ${expected ?? 'none'}, found ${found ?? 'none'})`);
  }
}

/** Another instance combined since this one loaded its windows: reload from the checkpoint. */
export class CombinerFencedError extends CheckpointFencedError {
  constructor(source: string) {
    super(source, -1, null, null);
    this.message = `the combiner of ${source} moved on in another instance`;
  }
}

const ts = toSqlTimestamp;

export interface CommitOptions {
  /** Bytes of a dead letter's raw message kept (its first ones); its full size is stored beside. */
  readonly deadLetterMaxBytes?: number;
}

export function alertPayload(alert: AnomalyAlert): Record<string, unknown> {
  return {
    session_id: alert.sessionId,
    severity: alert.severity,
    detected_ts: new Date(alert.episode.detectedTs).toISOString(),
    window_end: new Date(alert.episode.lastTs).toISOString(),
    click_count: alert.episode.maxCount,
    escalation: alert.escalation,
  };
}

/** JSON has no ±Infinity: keep them as strings inside the anomaly state. */
function anomalyJson(state: PartitionCommit['anomaly']): string | null {
  if (state === null) return null;
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export async function commitBatch(tx: Queryable, consumer: string, batch: BatchOutput, options: CommitOptions = {}): Promise<void> {
  await fence(tx, consumer, batch.partitions);
  // The partitions' buckets first: the combiner's retention below then also drops those of this
  // batch that no window needs any more.
  for (const p of batch.partitions) await writePartitionState(tx, consumer, p);
  if (batch.marts !== null) await writeMarts(tx, consumer, batch.marts);
  await writeAnomalies(tx, batch);
  await writeDeadLetters(tx, batch, options.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES);
  await writeLateEvents(tx, batch);
  await writeAlerts(tx, batch);
  await tx.query(
    `INSERT INTO stream_consumers (consumer, watermark_ts) VALUES ($1, $2::timestamptz)
     ON CONFLICT (consumer) DO UPDATE
       SET watermark_ts = GREATEST(stream_consumers.watermark_ts, excluded.watermark_ts), updated_at = now()`,
    [consumer, ts(batch.watermark)],
  );
}

async function fence(tx: Queryable, consumer: string, partitions: readonly PartitionCommit[]): Promise<void> {
  const bySource = new Map<string, PartitionCommit[]>();
  for (const p of partitions) bySource.set(p.source, [...(bySource.get(p.source) ?? []), p]);
  for (const [source, commits] of bySource) {
    // A partition nobody has committed yet has no row for FOR UPDATE to lock: two instances that
    // both took it during a rebalance would both pass, and the later commit would pair its offset
    // with the other's bound. A transaction lock per partition (in partition order) serialises
    // them, so the second sees the first's row and is fenced.
    const ordered = [...commits].sort((a, b) => a.partition - b.partition);
    for (const c of ordered) await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tidemark:partition:${consumer}:${source}:${c.partition}`]);
    const stored = await tx.query<{ kafka_partition: number; next_offset: string }>(
      `SELECT kafka_partition, next_offset::text AS next_offset FROM stream_partitions
        WHERE consumer = $1 AND source = $2 AND kafka_partition = ANY($3::int[]) FOR UPDATE`,
      [consumer, source, commits.map((c) => c.partition)],
    );
    const found = new Map(stored.rows.map((r) => [r.kafka_partition, r.next_offset]));
    for (const c of commits) {
      const current = found.get(c.partition) ?? null;
      if (current !== c.expectedOffset) throw new CheckpointFencedError(source, c.partition, c.expectedOffset, current);
    }
  }
}

/** The combiner's rows are written only on top of the frontiers it started from. */
async function fenceCombiner(tx: Queryable, consumer: string, marts: MartWrites): Promise<void> {
  const stored = await tx.query<{ traffic: unknown; top: unknown; trend: unknown }>(
    `SELECT ${epochMs('traffic_frontier')} AS traffic, ${epochMs('top_frontier')} AS top, ${epochMs('trend_frontier')} AS trend
       FROM stream_combiner WHERE consumer = $1 AND source = $2 FOR UPDATE`,
    [consumer, marts.source],
  );
  const row = stored.rows[0];
  const found = row === undefined ? null : { traffic: fromSqlEpoch(row.traffic), top: fromSqlEpoch(row.top), trend: fromSqlEpoch(row.trend) };
  const same = (a: Frontiers | null, b: Frontiers | null): boolean =>
    a === null || b === null ? a === b : a.traffic === b.traffic && a.top === b.top && a.trend === b.trend;
  if (!same(found, marts.expected)) throw new CombinerFencedError(marts.source);
}

/** A table's rows for some keys (and, after a restart, every key from an instant on) replaced by new ones. */
interface MartTable<Row> {
  readonly table: string;
  /** The mart's advisory lock (the registry's), which the daily reconcile takes too. */
  readonly lock: string;
  readonly key: string;
  readonly replace: readonly number[];
  readonly clearFrom: number | null;
  readonly rows: readonly KeyedRows<Row>[];
  insert(tx: Queryable, rows: readonly { row: Row; final: boolean }[]): Promise<void>;
}

async function replaceMartRows<Row>(tx: Queryable, t: MartTable<Row>): Promise<void> {
  if (t.replace.length === 0 && t.rows.length === 0 && t.clearFrom === null) return;
  // A transaction-scoped lock per mart: the combiner and the daily reconcile write one after the other.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [t.lock]);
  if (t.clearFrom !== null) await tx.query(`DELETE FROM ${t.table} WHERE ${t.key} >= $1::timestamptz`, [ts(t.clearFrom)]);
  if (t.replace.length > 0) await tx.query(`DELETE FROM ${t.table} WHERE ${t.key} = ANY($1::timestamptz[])`, [t.replace.map(ts)]);
  const rows = t.rows.flatMap((k) => k.rows.map((row) => ({ row, final: k.final })));
  if (rows.length > 0) await t.insert(tx, rows);
}

async function writeMarts(tx: Queryable, consumer: string, marts: MartWrites): Promise<void> {
  await fenceCombiner(tx, consumer, marts);
  await replaceMartRows<TrafficMinuteRow>(tx, {
    table: HOT_MARTS.traffic.table,
    lock: HOT_MARTS.traffic.lock,
    key: 'event_minute',
    replace: marts.replaceTraffic,
    clearFrom: marts.clearFrom?.traffic ?? null,
    rows: marts.traffic,
    insert: (q, rows) =>
      q.query(
        `INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs, is_final, updated_at)
         SELECT m, c, s, d, f, now() FROM unnest($1::timestamptz[], $2::int[], $3::int[], $4::int[], $5::bool[]) AS x(m, c, s, d, f)`,
        [rows.map((r) => ts(r.row.eventMinute)), rows.map((r) => r.row.totalClicks), rows.map((r) => r.row.uniqueSessions), rows.map((r) => r.row.uniqueDocs), rows.map((r) => r.final)],
      ).then(() => undefined),
  });
  await replaceMartRows<TopDocRow>(tx, {
    table: HOT_MARTS.topDocs.table,
    lock: HOT_MARTS.topDocs.lock,
    key: 'snapshot_ts',
    replace: marts.replaceTop,
    clearFrom: marts.clearFrom?.top ?? null,
    rows: marts.topDocs,
    insert: (q, rows) =>
      q.query(
        `INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, title, click_count, unique_sessions, is_final, updated_at)
         SELECT t, r, d, ti, c, s, f, now() FROM unnest($1::timestamptz[], $2::int[], $3::bigint[], $4::text[], $5::int[], $6::int[], $7::bool[]) AS x(t, r, d, ti, c, s, f)`,
        [
          rows.map((r) => ts(r.row.snapshotTs)),
          rows.map((r) => r.row.rank),
          rows.map((r) => r.row.documentId),
          rows.map((r) => r.row.title),
          rows.map((r) => r.row.clickCount),
          rows.map((r) => r.row.uniqueSessions),
          rows.map((r) => r.final),
        ],
      ).then(() => undefined),
  });
  await replaceMartRows<ClinicalTrendRow>(tx, {
    table: HOT_MARTS.clinicalTrend.table,
    lock: HOT_MARTS.clinicalTrend.lock,
    key: 'snapshot_ts',
    replace: marts.replaceTrend,
    clearFrom: marts.clearFrom?.trend ?? null,
    rows: marts.clinicalTrend,
    insert: (q, rows) =>
      q.query(
        `INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct, is_final, updated_at)
         SELECT t, a, c, s, p::numeric, f, now() FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::int[], $5::text[], $6::bool[]) AS x(t, a, c, s, p, f)`,
        [
          rows.map((r) => ts(r.row.snapshotTs)),
          rows.map((r) => r.row.clinicalArea),
          rows.map((r) => r.row.clickCount),
          rows.map((r) => r.row.uniqueSessions),
          rows.map((r) => r.row.trendPct),
          rows.map((r) => r.final),
        ],
      ).then(() => undefined),
  });
  await tx.query(
    `INSERT INTO stream_combiner (consumer, source, traffic_frontier, top_frontier, trend_frontier, updated_at)
     VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5::timestamptz, now())
     ON CONFLICT (consumer, source) DO UPDATE SET traffic_frontier = excluded.traffic_frontier, top_frontier = excluded.top_frontier,
       trend_frontier = excluded.trend_frontier, updated_at = excluded.updated_at`,
    [consumer, marts.source, ts(marts.next.traffic), ts(marts.next.top), ts(marts.next.trend)],
  );
  // Buckets every window has left, of every partition (the combiner alone prunes them).
  await tx.query(
    `DELETE FROM stream_state_buckets WHERE consumer = $1 AND source = $2
        AND ((kind = 'traffic' AND bucket_start < $3::timestamptz) OR (kind = 'top' AND bucket_start < $4::timestamptz)
          OR (kind = 'trend' AND bucket_start < $5::timestamptz))`,
    [consumer, marts.source, ts(marts.dropBefore.traffic), ts(marts.dropBefore.top), ts(marts.dropBefore.trend)],
  );
}

async function writeAnomalies(tx: Queryable, batch: BatchOutput): Promise<void> {
  if (batch.anomalyDeletes.length > 0) {
    await tx.query(
      `DELETE FROM mart_realtime_anomaly_sessions a USING unnest($1::text[], $2::timestamptz[]) AS d(s, t)
        WHERE a.session_id = d.s AND a.detected_ts = d.t`,
      [batch.anomalyDeletes.map((d) => d.sessionId), batch.anomalyDeletes.map((d) => ts(d.detectedTs))],
    );
  }
  if (batch.anomalyUpserts.length === 0) return;
  // One statement must not hold a key twice (ON CONFLICT would fail): the last version wins.
  const latest = new Map<string, BatchOutput['anomalyUpserts'][number]>();
  for (const u of batch.anomalyUpserts) latest.set(`${u.row.detectedTs}\u0000${u.row.sessionId}`, u);
  const rows = [...latest.values()];
  await tx.query(
    `INSERT INTO mart_realtime_anomaly_sessions (detected_ts, session_id, window_start, window_end, click_count, severity, is_final, updated_at)
     SELECT d, s, ws, we, c, sv, f, now()
       FROM unnest($1::timestamptz[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[], $7::bool[]) AS x(d, s, ws, we, c, sv, f)
     ON CONFLICT (detected_ts, session_id) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end,
       click_count = excluded.click_count, severity = excluded.severity, is_final = excluded.is_final, updated_at = excluded.updated_at`,
    [
      rows.map((u) => ts(u.row.detectedTs)),
      rows.map((u) => u.row.sessionId),
      rows.map((u) => ts(u.row.windowStart)),
      rows.map((u) => ts(u.row.windowEnd)),
      rows.map((u) => u.row.clickCount),
      rows.map((u) => u.row.severity),
      rows.map((u) => u.final),
    ],
  );
}

async function writeDeadLetters(tx: Queryable, batch: BatchOutput, maxBytes: number): Promise<void> {
  if (batch.deadLetters.length === 0) return;
  const raw = batch.deadLetters.map((d) => rawParts(d.message.value, maxBytes));
  await tx.query(
    `INSERT INTO dead_letter_events (source, kafka_partition, kafka_offset, raw_bytes, raw_text, raw_size, reason, detail, received_at)
     SELECT s, p, o, decode(h, 'hex'), t, n, r, d, ra
       FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::timestamptz[]) AS x(s, p, o, h, t, n, r, d, ra)
     ON CONFLICT (source, kafka_partition, kafka_offset) DO NOTHING`,
    [
      batch.deadLetters.map((d) => storableText(d.message.source)),
      batch.deadLetters.map((d) => d.message.partition),
      batch.deadLetters.map((d) => d.message.offset),
      raw.map((r) => r.hex),
      raw.map((r) => r.text),
      raw.map((r) => r.size),
      batch.deadLetters.map((d) => d.reason),
      // Details quote the message (a JSON parser's excerpt), so they may hold anything it held.
      batch.deadLetters.map((d) => storableText(d.detail)),
      batch.deadLetters.map((d) => ts(d.message.receivedAt)),
    ],
  );
}

async function writeLateEvents(tx: Queryable, batch: BatchOutput): Promise<void> {
  if (batch.lateEvents.length === 0) return;
  const late = batch.lateEvents;
  await tx.query(
    `INSERT INTO late_events (source, kafka_partition, kafka_offset, event_id, event_ts, session_id, document_id, title, clinical_area, watermark_ts, received_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[])
     ON CONFLICT (source, kafka_partition, kafka_offset) DO NOTHING`,
    [
      late.map((l) => l.message.source),
      late.map((l) => l.message.partition),
      late.map((l) => l.message.offset),
      late.map((l) => l.event.eventId),
      late.map((l) => ts(l.event.eventTs)),
      late.map((l) => l.event.sessionId),
      late.map((l) => l.event.documentId),
      late.map((l) => l.event.title),
      late.map((l) => l.event.clinicalArea),
      late.map((l) => ts(l.watermark)),
      late.map((l) => ts(l.message.receivedAt)),
    ],
  );
}

async function writeAlerts(tx: Queryable, batch: BatchOutput): Promise<void> {
  if (batch.alerts.length === 0) return;
  await tx.query(
    `INSERT INTO anomaly_alerts (session_id, detected_ts, severity, click_count, raised_at, payload)
     SELECT s, d, sv, c, now(), p FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::int[], $5::jsonb[]) AS x(s, d, sv, c, p)
     ON CONFLICT DO NOTHING`,
    [
      batch.alerts.map((a) => a.sessionId),
      batch.alerts.map((a) => ts(a.episode.detectedTs)),
      batch.alerts.map((a) => a.severity),
      batch.alerts.map((a) => a.episode.maxCount),
      batch.alerts.map((a) => JSON.stringify(alertPayload(a))),
    ],
  );
}

async function writePartitionState(tx: Queryable, consumer: string, p: PartitionCommit): Promise<void> {
  const key = [consumer, p.source, p.partition];
  if (p.newPendingEvents.length > 0) {
    let maxTs = Number.NEGATIVE_INFINITY;
    for (const e of p.newPendingEvents) if (e.eventTs > maxTs) maxTs = e.eventTs;
    await tx.query(
      `INSERT INTO stream_pending_batches (consumer, source, kafka_partition, max_event_ts, events) VALUES ($1, $2, $3, $4::timestamptz, $5)`,
      [...key, ts(maxTs), encodePendingEvents(p.newPendingEvents)],
    );
  }
  await tx.query(`DELETE FROM stream_pending_batches WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND max_event_ts < $4::timestamptz`, [
    ...key,
    ts(p.retainFrom),
  ]);
  if (p.newBuckets.length > 0) {
    await tx.query(
      `INSERT INTO stream_state_buckets (consumer, source, kafka_partition, kind, bucket_start, state, is_final)
       SELECT $1, $2, $3, k, b, s, f FROM unnest($4::text[], $5::timestamptz[], $6::text[], $7::bool[]) AS x(k, b, s, f)
       ON CONFLICT (consumer, source, kafka_partition, kind, bucket_start) DO UPDATE
         SET state = excluded.state, is_final = excluded.is_final, version = nextval('stream_state_bucket_version')`,
      [...key, p.newBuckets.map((b) => b.kind), p.newBuckets.map((b) => ts(b.start)), p.newBuckets.map((b) => JSON.stringify(b.data)), p.newBuckets.map((b) => b.final)],
    );
  }
  if (p.nextOffset === null) return;
  // anomaly null = unchanged since this instance's last commit of the row, which therefore exists
  // (the insert's '{}' only satisfies NOT NULL, which is checked before the conflict is).
  await tx.query(
    `INSERT INTO stream_partitions (consumer, source, kafka_partition, next_offset, max_event_ts, retain_from, anomaly_state, watermark_ts, updated_at)
     VALUES ($1, $2, $3, $4::bigint, $5::timestamptz, $6::timestamptz, COALESCE($7::jsonb, '{}'::jsonb), $8::timestamptz, now())
     ON CONFLICT (consumer, source, kafka_partition) DO UPDATE SET next_offset = excluded.next_offset, max_event_ts = excluded.max_event_ts,
       watermark_ts = GREATEST(stream_partitions.watermark_ts, excluded.watermark_ts), retain_from = excluded.retain_from,
       anomaly_state = CASE WHEN $7::jsonb IS NULL THEN stream_partitions.anomaly_state ELSE excluded.anomaly_state END, updated_at = excluded.updated_at`,
    [...key, p.nextOffset, ts(p.maxEventTs), ts(p.retainFrom), anomalyJson(p.anomaly), ts(p.watermark)],
  );
}
