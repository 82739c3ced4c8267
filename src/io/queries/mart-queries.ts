// Read models of the hot marts and the bookkeeping tables for the JSON API, the console and
// `tidemark status`. Parameterised SQL only; instants come back as ISO strings, counts as numbers.
import type { Queryable } from '../db/database.ts';

export interface TrafficPoint {
  readonly event_minute: string;
  readonly total_clicks: number;
  readonly unique_sessions: number;
  readonly unique_docs: number;
  readonly is_final: boolean;
}

export interface TopDocsSnapshot {
  /** null when there is no snapshot at or before the instant asked for. */
  readonly snapshot_ts: string | null;
  readonly rows: readonly {
    readonly rank: number;
    readonly document_id: string;
    readonly title: string | null;
    readonly click_count: number;
    readonly unique_sessions: number;
  }[];
}

export interface ClinicalTrendSnapshot {
  readonly snapshot_ts: string | null;
  /** Start of the previous window the snapshot compares with: snapshot_ts − 48 h. */
  readonly previous_window_start: string | null;
  /** The traffic mart's first minute: nothing earlier was seen (or it is past HOT_RETENTION_DAYS). */
  readonly data_since: string | null;
  /**
   * Whether the data reach back to the start of the previous window. When they do not (a source
   * that started less than 48 h before the snapshot, like the demo's history), trend_pct compares
   * with a partial day and says nothing about a real change: the console shows it as n/a.
   */
  readonly previous_window_complete: boolean;
  readonly rows: readonly {
    readonly clinical_area: string;
    readonly click_count: number;
    readonly unique_sessions: number;
    /** null when the previous day had no clicks in the area. */
    readonly trend_pct: number | null;
  }[];
}

export interface AnomalyAlertRow {
  readonly session_id: string;
  readonly detected_ts: string;
  readonly severity: string;
  readonly click_count: number;
  readonly raised_at: string;
  readonly delivered_at: string | null;
}

export interface JobRunRow {
  readonly id: string;
  readonly job: string;
  readonly step: string | null;
  readonly range_from: string | null;
  readonly range_to: string | null;
  readonly requested_by: string;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly outcome: string;
  readonly duration_sec: number | null;
  readonly detail: unknown;
}

/** An instant as ISO text; ±infinity (a timestamptz of a bounded source's end) as null. */
export function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value).toISOString() : null;
  return String(value);
}

export async function trafficMinutes(db: Queryable, fromMs: number, toMs: number): Promise<TrafficPoint[]> {
  const { rows } = await db.query<{ event_minute: Date; total_clicks: number; unique_sessions: number; unique_docs: number; is_final: boolean }>(
    `SELECT event_minute, total_clicks, unique_sessions, unique_docs, is_final
       FROM mart_realtime_traffic_minute
      WHERE event_minute >= $1::timestamptz AND event_minute < $2::timestamptz
      ORDER BY event_minute`,
    [new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
  );
  return rows.map((r) => ({ ...r, event_minute: iso(r.event_minute)! }));
}

/** The newest top-documents snapshot at or before atMs (or exactly at snapshotMs when given). */
export async function topDocs(db: Queryable, options: { atMs: number; snapshotMs?: number; limit: number }): Promise<TopDocsSnapshot> {
  const snapshot = options.snapshotMs ?? (await newestSnapshot(db, 'mart_realtime_top_docs_1h', options.atMs));
  if (snapshot === null) return { snapshot_ts: null, rows: [] };
  const { rows } = await db.query<{ rank: number; document_id: string; title: string | null; click_count: number; unique_sessions: number }>(
    `SELECT rank, document_id, title, click_count, unique_sessions
       FROM mart_realtime_top_docs_1h WHERE snapshot_ts = $1::timestamptz ORDER BY rank LIMIT $2`,
    [new Date(snapshot).toISOString(), options.limit],
  );
  return { snapshot_ts: new Date(snapshot).toISOString(), rows };
}

const TREND_COMPARED_MS = 48 * 3_600_000;

export async function clinicalTrend(db: Queryable, options: { atMs: number; snapshotMs?: number }): Promise<ClinicalTrendSnapshot> {
  const snapshot = options.snapshotMs ?? (await newestSnapshot(db, 'mart_realtime_clinical_trend_24h', options.atMs));
  if (snapshot === null) return { snapshot_ts: null, previous_window_start: null, data_since: null, previous_window_complete: false, rows: [] };
  // The primary key's first entry: one index probe.
  const first = await db.query<{ t: Date | null }>('SELECT min(event_minute) AS t FROM mart_realtime_traffic_minute');
  const since = first.rows[0]?.t ?? null;
  const previousStart = snapshot - TREND_COMPARED_MS;
  const { rows } = await db.query<{ clinical_area: string; click_count: number; unique_sessions: number; trend_pct: string | null }>(
    `SELECT clinical_area, click_count, unique_sessions, trend_pct
       FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts = $1::timestamptz
      ORDER BY click_count DESC, clinical_area`,
    [new Date(snapshot).toISOString()],
  );
  return {
    snapshot_ts: new Date(snapshot).toISOString(),
    previous_window_start: new Date(previousStart).toISOString(),
    data_since: iso(since),
    previous_window_complete: since !== null && since.getTime() <= previousStart,
    rows: rows.map((r) => ({ ...r, trend_pct: r.trend_pct === null ? null : Number(r.trend_pct) })),
  };
}

// The table name is one of two constants above, never caller input.
async function newestSnapshot(db: Queryable, table: 'mart_realtime_top_docs_1h' | 'mart_realtime_clinical_trend_24h', atMs: number): Promise<number | null> {
  const { rows } = await db.query<{ t: Date | null }>(`SELECT max(snapshot_ts) AS t FROM ${table} WHERE snapshot_ts <= $1::timestamptz`, [
    new Date(atMs).toISOString(),
  ]);
  const t = rows[0]?.t ?? null;
  return t === null ? null : t.getTime();
}

/** Anomaly alerts as raised (the outbox), newest first. */
export async function anomalyAlerts(db: Queryable, limit: number): Promise<AnomalyAlertRow[]> {
  const { rows } = await db.query<{ session_id: string; detected_ts: Date; severity: string; click_count: number; raised_at: Date; delivered_at: Date | null }>(
    `SELECT session_id, detected_ts, severity, click_count, raised_at, delivered_at
       FROM anomaly_alerts
      ORDER BY raised_at DESC, detected_ts DESC, session_id, (severity = 'CRITICAL') DESC
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, detected_ts: iso(r.detected_ts)!, raised_at: iso(r.raised_at)!, delivered_at: iso(r.delivered_at) }));
}

export async function jobRuns(db: Queryable, limit: number): Promise<JobRunRow[]> {
  const { rows } = await db.query<{
    id: string; job: string; step: string | null; range_from: string | null; range_to: string | null; requested_by: string;
    started_at: Date; finished_at: Date | null; outcome: string; duration_sec: string | null; detail: unknown;
  }>(
    `SELECT id, job, step, range_from, range_to, requested_by, started_at, finished_at, outcome,
            round(extract(epoch FROM (finished_at - started_at))::numeric, 3) AS duration_sec, detail
       FROM job_runs ORDER BY started_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    ...r,
    started_at: iso(r.started_at)!,
    finished_at: iso(r.finished_at),
    duration_sec: r.duration_sec === null ? null : Number(r.duration_sec),
  }));
}
