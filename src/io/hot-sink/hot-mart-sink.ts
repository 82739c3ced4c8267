// Writes one micro-batch — hot-mart rows, dead letters, late events, alerts, offsets, watermark
// and operator state — in ONE transaction. The stored offsets double as a fence: if another
// instance committed a partition since we loaded it, the batch is refused and nothing is written.
import type { AnomalyAlert } from '../../stream/anomaly-detector.ts';
import type { BatchOutput, PartitionCommit } from '../../stream/checkpoint-types.ts';
import type { Queryable } from '../db/database.ts';
import { DEFAULT_DEAD_LETTER_MAX_BYTES } from '../../marts/types.ts';
import { rawParts, storableText } from './dead-letter-raw.ts';
import { toSqlTimestamp } from './timestamps.ts';

export class CheckpointFencedError extends Error {
  readonly code = 'CHECKPOINT_FENCED';
  readonly retriable = true;
  constructor(source: string, partition: number, expected: string | null, found: string | null) {
    super(`partition ${source}#${partition} was committed by another owner (expected offset ${expected ?? 'none'}, found ${found ?? 'none'})`);
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
function anomalyJson(state: PartitionCommit['anomaly']): string {
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export async function commitBatch(tx: Queryable, consumer: string, batch: BatchOutput, options: CommitOptions = {}): Promise<void> {
  await fence(tx, consumer, batch.partitions);
  await writeTraffic(tx, consumer, batch);
  await writeSnapshots(tx, consumer, batch);
  await writeAnomalies(tx, batch);
  await writeDeadLetters(tx, batch, options.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES);
  await writeLateEvents(tx, batch);
  await writeAlerts(tx, batch);
  for (const p of batch.partitions) await writePartitionState(tx, consumer, p);
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

/** A transaction-scoped lock per mart, so concurrent instances recombine one after the other. */
async function lockMart(tx: Queryable, mart: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tidemark:${mart}`]);
}

async function writeTraffic(tx: Queryable, consumer: string, batch: BatchOutput): Promise<void> {
  const parts = batch.trafficPartials;
  if (parts.length > 0) {
    await tx.query(
      `INSERT INTO hot_partial_traffic (consumer, event_minute, source, kafka_partition, total_clicks, unique_sessions, document_ids, is_final)
       SELECT $1, m, s, p, c, u, (SELECT coalesce(array_agg(x::bigint), '{}') FROM unnest(string_to_array(d, ',')) AS x), f
         FROM unnest($2::timestamptz[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[], $8::bool[]) AS t(m, s, p, c, u, d, f)
       ON CONFLICT (consumer, event_minute, source, kafka_partition) DO UPDATE SET total_clicks = excluded.total_clicks,
         unique_sessions = excluded.unique_sessions, document_ids = excluded.document_ids, is_final = excluded.is_final`,
      [
        consumer,
        parts.map((p) => ts(p.eventMinute)),
        parts.map((p) => p.source),
        parts.map((p) => p.partition),
        parts.map((p) => p.clicks),
        parts.map((p) => p.sessions),
        parts.map((p) => p.documentIds.join(',')),
        parts.map((p) => p.final),
      ],
    );
  }
  if (batch.dirtyMinutes.length === 0) return;
  await lockMart(tx, 'traffic');
  await tx.query(
    `INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs, is_final, updated_at)
     SELECT p.event_minute, sum(p.total_clicks), sum(p.unique_sessions),
            (SELECT count(DISTINCT d) FROM hot_partial_traffic q, unnest(q.document_ids) AS d
              WHERE q.consumer = $1 AND q.event_minute = p.event_minute),
            bool_and(p.is_final), now()
       FROM hot_partial_traffic p
      WHERE p.consumer = $1 AND p.event_minute = ANY($2::timestamptz[])
      GROUP BY p.event_minute
     ON CONFLICT (event_minute) DO UPDATE SET total_clicks = excluded.total_clicks, unique_sessions = excluded.unique_sessions,
       unique_docs = excluded.unique_docs, is_final = excluded.is_final, updated_at = excluded.updated_at`,
    [consumer, batch.dirtyMinutes.map(ts)],
  );
}

async function markFinal(tx: Queryable, consumer: string, batch: BatchOutput): Promise<void> {
  for (const f of batch.finality) {
    if (f.topUpTo !== null) {
      await tx.query(
        `UPDATE hot_partial_top_docs SET is_final = true
          WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND snapshot_ts <= $4::timestamptz AND NOT is_final`,
        [consumer, f.source, f.partition, ts(f.topUpTo)],
      );
    }
    if (f.trendUpTo !== null) {
      await tx.query(
        `UPDATE hot_partial_clinical_trend SET is_final = true
          WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND snapshot_ts <= $4::timestamptz AND NOT is_final`,
        [consumer, f.source, f.partition, ts(f.trendUpTo)],
      );
    }
  }
}

/** Partials are upserted per (snapshot, partition, group); snapshots are then re-ranked whole. */
async function writeSnapshots(tx: Queryable, consumer: string, batch: BatchOutput): Promise<void> {
  const top = batch.topPartials;
  if (top.length > 0) {
    await tx.query(
      `INSERT INTO hot_partial_top_docs (consumer, snapshot_ts, source, kafka_partition, document_id, click_count, unique_sessions, title, title_ts, title_event_id)
       SELECT $1, t, s, p, d, c, u, ti, tt, te
         FROM unnest($2::timestamptz[], $3::text[], $4::int[], $5::bigint[], $6::int[], $7::int[], $8::text[], $9::timestamptz[], $10::text[]) AS x(t, s, p, d, c, u, ti, tt, te)
       ON CONFLICT (consumer, snapshot_ts, source, kafka_partition, document_id) DO UPDATE SET click_count = excluded.click_count,
         unique_sessions = excluded.unique_sessions, title = excluded.title, title_ts = excluded.title_ts, title_event_id = excluded.title_event_id`,
      [
        consumer,
        top.map((p) => ts(p.snapshotTs)),
        top.map((p) => p.source),
        top.map((p) => p.partition),
        top.map((p) => p.documentId),
        top.map((p) => p.clicks),
        top.map((p) => p.sessions),
        top.map((p) => p.title?.title ?? null),
        top.map((p) => (p.title === null ? null : ts(p.title.ts))),
        top.map((p) => p.title?.eventId ?? null),
      ],
    );
  }
  const trend = batch.trendPartials;
  if (trend.length > 0) {
    await tx.query(
      `INSERT INTO hot_partial_clinical_trend (consumer, snapshot_ts, source, kafka_partition, clinical_area, click_count, unique_sessions, previous_count)
       SELECT $1, t, s, p, a, c, u, pc FROM unnest($2::timestamptz[], $3::text[], $4::int[], $5::text[], $6::int[], $7::int[], $8::int[]) AS x(t, s, p, a, c, u, pc)
       ON CONFLICT (consumer, snapshot_ts, source, kafka_partition, clinical_area) DO UPDATE SET click_count = excluded.click_count,
         unique_sessions = excluded.unique_sessions, previous_count = excluded.previous_count`,
      [
        consumer,
        trend.map((p) => ts(p.snapshotTs)),
        trend.map((p) => p.source),
        trend.map((p) => p.partition),
        trend.map((p) => p.clinicalArea),
        trend.map((p) => p.clicks),
        trend.map((p) => p.sessions),
        trend.map((p) => p.previousClicks),
      ],
    );
  }
  await markFinal(tx, consumer, batch);
  if (batch.dirtyTopSnapshots.length > 0) {
    const snapshots = batch.dirtyTopSnapshots.map(ts);
    await lockMart(tx, 'top_docs');
    await tx.query(`DELETE FROM mart_realtime_top_docs_1h WHERE snapshot_ts = ANY($1::timestamptz[])`, [snapshots]);
    // Title: latest by (event_ts, event_id) over the partitions' latest titles; ties of click
    // count and sessions go to the smaller document_id.
    await tx.query(
      `INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, title, click_count, unique_sessions, is_final, updated_at)
       SELECT snapshot_ts, rank, document_id, title, clicks, sessions, final, now() FROM (
         SELECT snapshot_ts, document_id, sum(click_count) AS clicks, sum(unique_sessions) AS sessions, bool_and(is_final) AS final,
                (array_agg(title ORDER BY title_ts DESC, title_event_id COLLATE "C" DESC) FILTER (WHERE title IS NOT NULL))[1] AS title,
                row_number() OVER (PARTITION BY snapshot_ts ORDER BY sum(click_count) DESC, sum(unique_sessions) DESC, document_id) AS rank
           FROM hot_partial_top_docs
          WHERE consumer = $1 AND snapshot_ts = ANY($2::timestamptz[])
          GROUP BY snapshot_ts, document_id
       ) ranked WHERE rank <= 20`,
      [consumer, snapshots],
    );
  }
  if (batch.dirtyTrendSnapshots.length > 0) {
    const snapshots = batch.dirtyTrendSnapshots.map(ts);
    await lockMart(tx, 'clinical_trend');
    await tx.query(`DELETE FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts = ANY($1::timestamptz[])`, [snapshots]);
    // round(numeric, 2) rounds half away from zero, as the spec asks for trend_pct.
    await tx.query(
      `INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct, is_final, updated_at)
       SELECT snapshot_ts, clinical_area, sum(click_count), sum(unique_sessions),
              CASE WHEN sum(previous_count) = 0 THEN NULL
                   ELSE round(100.0 * (sum(click_count) - sum(previous_count)) / sum(previous_count), 2) END,
              bool_and(is_final), now()
         FROM hot_partial_clinical_trend
        WHERE consumer = $1 AND snapshot_ts = ANY($2::timestamptz[])
        GROUP BY snapshot_ts, clinical_area
       HAVING sum(click_count) > 0 OR sum(previous_count) > 0`,
      [consumer, snapshots],
    );
  }
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
    const e = p.newPendingEvents;
    await tx.query(
      `INSERT INTO stream_pending_events (consumer, source, kafka_partition, event_ts, event_id, session_id, document_id, title, clinical_area)
       SELECT $1, $2, $3, t, i, s, d, ti, a FROM unnest($4::timestamptz[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[]) AS x(t, i, s, d, ti, a)`,
      [...key, e.map((x) => ts(x.eventTs)), e.map((x) => x.eventId), e.map((x) => x.sessionId), e.map((x) => x.documentId), e.map((x) => x.title), e.map((x) => x.clinicalArea)],
    );
  }
  await tx.query(`DELETE FROM stream_pending_events WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND event_ts < $4::timestamptz`, [
    ...key,
    ts(p.retainFrom),
  ]);
  if (p.newBuckets.length > 0) {
    await tx.query(
      `INSERT INTO stream_state_buckets (consumer, source, kafka_partition, kind, bucket_start, state)
       SELECT $1, $2, $3, k, b, s FROM unnest($4::text[], $5::timestamptz[], $6::text[]) AS x(k, b, s)
       ON CONFLICT (consumer, source, kafka_partition, kind, bucket_start) DO UPDATE SET state = excluded.state`,
      [...key, p.newBuckets.map((b) => b.kind), p.newBuckets.map((b) => ts(b.start)), p.newBuckets.map((b) => JSON.stringify(b.data))],
    );
  }
  for (const [kind, before] of [['top', p.dropTopBefore], ['trend', p.dropTrendBefore]] as const) {
    if (before === null) continue;
    await tx.query(
      `DELETE FROM stream_state_buckets WHERE consumer = $1 AND source = $2 AND kafka_partition = $3 AND kind = $4 AND bucket_start < $5::timestamptz`,
      [...key, kind, ts(before)],
    );
  }
  if (p.nextOffset === null) return;
  await tx.query(
    `INSERT INTO stream_partitions (consumer, source, kafka_partition, next_offset, max_event_ts, top_frontier, trend_frontier, retain_from, anomaly_state, watermark_ts, updated_at)
     VALUES ($1, $2, $3, $4::bigint, $5::timestamptz, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9::jsonb, $10::timestamptz, now())
     ON CONFLICT (consumer, source, kafka_partition) DO UPDATE SET next_offset = excluded.next_offset, max_event_ts = excluded.max_event_ts,
       watermark_ts = GREATEST(stream_partitions.watermark_ts, excluded.watermark_ts),
       top_frontier = excluded.top_frontier, trend_frontier = excluded.trend_frontier, retain_from = excluded.retain_from,
       anomaly_state = excluded.anomaly_state, updated_at = excluded.updated_at`,
    [
      ...key,
      p.nextOffset,
      ts(p.maxEventTs),
      p.topFrontier === null ? null : ts(p.topFrontier),
      p.trendFrontier === null ? null : ts(p.trendFrontier),
      ts(p.retainFrom),
      anomalyJson(p.anomaly),
      ts(p.watermark),
    ],
  );
}
