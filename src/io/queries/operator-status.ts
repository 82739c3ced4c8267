// What an operator asks first: is the stream keeping up (watermark, lag, checkpoint age), did the
// daily jobs run, and how far did reconcile have to correct the hot marts. One read, shared by
// `tidemark status`, /api/status and /readyz.
import type { Queryable } from '../db/database.ts';
import { iso, jobRuns } from './mart-queries.ts';
import type { JobRunRow } from './mart-queries.ts';

export interface ConsumerStatus {
  readonly consumer: string;
  /** null for +∞ (a bounded source that ended). */
  readonly watermark: string | null;
  /** Wall clock minus watermark, seconds; null when the watermark is +∞. */
  readonly watermark_delay_sec: number | null;
  readonly last_checkpoint: string | null;
  readonly checkpoint_age_sec: number | null;
  readonly partitions: number;
  readonly committed_offsets: number;
}

export interface DriftRow {
  readonly mart: string;
  readonly event_date: string;
  readonly rows_compared: number;
  readonly rows_changed: number;
  readonly rows_added: number;
  readonly rows_removed: number;
  readonly max_abs_diff: number;
  readonly late_events: number;
  readonly created_at: string;
}

/** The archive writer: how far the lake is complete, and when it last flushed. */
export interface ArchiveStatus {
  readonly consumer: string;
  /** null for +∞ (a bounded source that ended). */
  readonly watermark: string | null;
  readonly watermark_delay_sec: number | null;
  readonly last_flush: string | null;
  readonly last_flush_age_sec: number | null;
  readonly partitions: number;
  readonly committed_offsets: number;
}

/** The anomaly alert outbox by delivery state. */
export interface AlertDelivery {
  /** Not tried yet. */
  readonly queued: number;
  /** Tried, failed, retried with back-off. */
  readonly retrying: number;
  /** Delivered and still kept: retention deletes delivered alerts raised over 30 days ago. */
  readonly sent: number;
  /** Refused for good by the webhook (a 4xx): parked with its error. */
  readonly failed: number;
}

export interface OperatorStatus {
  readonly now: string;
  readonly consumers: readonly ConsumerStatus[];
  /** Messages behind the source, when the caller can measure it (null otherwise). */
  readonly lag: number | null;
  readonly dead_letters_1h: number;
  readonly late_events_1h: number;
  readonly alerts_pending: number;
  readonly last_runs: readonly JobRunRow[];
  /** The newest reconcile report of each mart. */
  readonly drift: readonly DriftRow[];
  readonly archive: readonly ArchiveStatus[];
  readonly alert_delivery: AlertDelivery;
  /** Dead letters of the last hour by reason, most frequent first. */
  readonly dead_letter_reasons_1h: readonly { readonly reason: string; readonly count: number }[];
}

export async function consumerStatus(db: Queryable, nowMs: number): Promise<ConsumerStatus[]> {
  const { rows } = await db.query<{ consumer: string; watermark_ts: Date | number; last_checkpoint: Date | null; partitions: number; committed: string | null }>(
    `SELECT c.consumer, c.watermark_ts,
            greatest(c.updated_at, max(p.updated_at)) AS last_checkpoint,
            count(p.kafka_partition)::int AS partitions,
            sum(p.next_offset)::text AS committed
       FROM stream_consumers c
       LEFT JOIN stream_partitions p ON p.consumer = c.consumer
      GROUP BY c.consumer, c.watermark_ts, c.updated_at
      ORDER BY c.consumer`,
  );
  return rows.map((r) => {
    const watermark = r.watermark_ts instanceof Date ? r.watermark_ts.getTime() : r.watermark_ts;
    const checkpoint = r.last_checkpoint === null ? null : r.last_checkpoint.getTime();
    return {
      consumer: r.consumer,
      watermark: iso(watermark),
      watermark_delay_sec: Number.isFinite(watermark) ? round1((nowMs - watermark) / 1000) : null,
      last_checkpoint: iso(checkpoint),
      checkpoint_age_sec: checkpoint === null ? null : round1((nowMs - checkpoint) / 1000),
      partitions: r.partitions,
      committed_offsets: Number(r.committed ?? 0),
    };
  });
}

export async function reconcileDrift(db: Queryable): Promise<DriftRow[]> {
  const { rows } = await db.query<{
    mart: string; event_date: string; rows_compared: number; rows_changed: number; rows_added: number; rows_removed: number;
    max_abs_diff: string; late_events: number; created_at: Date;
  }>(
    `SELECT DISTINCT ON (mart) mart, event_date::text AS event_date, rows_compared, rows_changed, rows_added, rows_removed,
            max_abs_diff, late_events, created_at
       FROM reconcile_reports ORDER BY mart, created_at DESC, event_date DESC`,
  );
  return rows.map((r) => ({ ...r, max_abs_diff: Number(r.max_abs_diff), created_at: iso(r.created_at)! }));
}

export async function archiveStatus(db: Queryable, nowMs: number): Promise<ArchiveStatus[]> {
  const { rows } = await db.query<{ consumer: string; watermark_ts: Date | number; last_flush: Date | null; partitions: number; committed: string | null }>(
    `SELECT w.consumer, w.watermark_ts, max(p.updated_at) AS last_flush, count(p.kafka_partition)::int AS partitions, sum(p.next_offset)::text AS committed
       FROM archive_watermark w
       LEFT JOIN archive_partitions p ON p.consumer = w.consumer
      GROUP BY w.consumer, w.watermark_ts
      ORDER BY w.consumer`,
  );
  return rows.map((r) => {
    const watermark = r.watermark_ts instanceof Date ? r.watermark_ts.getTime() : r.watermark_ts;
    const flushed = r.last_flush === null ? null : r.last_flush.getTime();
    return {
      consumer: r.consumer,
      watermark: iso(watermark),
      watermark_delay_sec: Number.isFinite(watermark) ? round1((nowMs - watermark) / 1000) : null,
      last_flush: iso(flushed),
      last_flush_age_sec: flushed === null ? null : round1((nowMs - flushed) / 1000),
      partitions: r.partitions,
      committed_offsets: Number(r.committed ?? 0),
    };
  });
}

async function alertDelivery(db: Queryable): Promise<AlertDelivery> {
  const { rows } = await db.query<AlertDelivery>(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND attempts = 0 AND next_attempt_at IS DISTINCT FROM 'infinity')::int AS queued,
            count(*) FILTER (WHERE delivered_at IS NULL AND attempts > 0 AND next_attempt_at IS DISTINCT FROM 'infinity')::int AS retrying,
            count(*) FILTER (WHERE delivered_at IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE delivered_at IS NULL AND next_attempt_at = 'infinity')::int AS failed
       FROM anomaly_alerts`,
  );
  return rows[0]!;
}

export async function operatorStatus(db: Queryable, options: { nowMs: number; lag: number | null; runs?: number }): Promise<OperatorStatus> {
  const since = new Date(options.nowMs - 3_600_000).toISOString();
  const counts = await db.query<{ dead: number; late: number; pending: number }>(
    `SELECT (SELECT count(*)::int FROM dead_letter_events WHERE received_at >= $1::timestamptz) AS dead,
            (SELECT count(*)::int FROM late_events WHERE received_at >= $1::timestamptz) AS late,
            (SELECT count(*)::int FROM anomaly_alerts WHERE delivered_at IS NULL) AS pending`,
    [since],
  );
  const c = counts.rows[0]!;
  return {
    now: new Date(options.nowMs).toISOString(),
    consumers: await consumerStatus(db, options.nowMs),
    lag: options.lag,
    dead_letters_1h: c.dead,
    late_events_1h: c.late,
    alerts_pending: c.pending,
    last_runs: await jobRuns(db, options.runs ?? 10),
    drift: await reconcileDrift(db),
    archive: await archiveStatus(db, options.nowMs),
    alert_delivery: await alertDelivery(db),
    dead_letter_reasons_1h: (
      await db.query<{ reason: string; count: number }>(
        `SELECT reason, count(*)::int AS count FROM dead_letter_events WHERE received_at >= $1::timestamptz GROUP BY reason ORDER BY count(*) DESC, reason`,
        [since],
      )
    ).rows,
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
