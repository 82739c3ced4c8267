// The hot marts of one local day as reconcile sees them (SPEC §6.3): read the rows keyed in
// [dayStart, dayEnd), and replace them with recomputed, final rows. Row shapes are those of
// src/marts/types.ts, as the reference evaluator produces them.
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../hot-sink/timestamps.ts';
import type { HotMartRows, Severity } from '../../marts/types.ts';
import { INSERT_CHUNK } from './cold-mart-store.ts';

export const HOT_TABLES = {
  traffic: { table: 'mart_realtime_traffic_minute', key: 'event_minute' },
  topDocs: { table: 'mart_realtime_top_docs_1h', key: 'snapshot_ts' },
  clinicalTrend: { table: 'mart_realtime_clinical_trend_24h', key: 'snapshot_ts' },
  anomalies: { table: 'mart_realtime_anomaly_sessions', key: 'detected_ts' },
} as const;

export async function readHotRows(db: Queryable, from: number, to: number): Promise<HotMartRows> {
  const range = [toSqlTimestamp(from), toSqlTimestamp(to)];
  const traffic = await db.query<{ m: unknown; c: number; s: number; d: number }>(
    `SELECT ${epochMs('event_minute')} AS m, total_clicks AS c, unique_sessions AS s, unique_docs AS d
       FROM mart_realtime_traffic_minute WHERE event_minute >= $1::timestamptz AND event_minute < $2::timestamptz ORDER BY event_minute`,
    range,
  );
  const top = await db.query<{ t: unknown; r: number; d: string; ti: string | null; c: number; s: number }>(
    `SELECT ${epochMs('snapshot_ts')} AS t, rank AS r, document_id::text AS d, title AS ti, click_count AS c, unique_sessions AS s
       FROM mart_realtime_top_docs_1h WHERE snapshot_ts >= $1::timestamptz AND snapshot_ts < $2::timestamptz ORDER BY snapshot_ts, rank`,
    range,
  );
  const trend = await db.query<{ t: unknown; a: string; c: number; s: number; p: string | null }>(
    `SELECT ${epochMs('snapshot_ts')} AS t, clinical_area AS a, click_count AS c, unique_sessions AS s, trend_pct::text AS p
       FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts >= $1::timestamptz AND snapshot_ts < $2::timestamptz
      ORDER BY snapshot_ts, clinical_area COLLATE "C"`,
    range,
  );
  const anomalies = await db.query<{ d: unknown; s: string; ws: unknown; we: unknown; c: number; sv: Severity }>(
    `SELECT ${epochMs('detected_ts')} AS d, session_id AS s, ${epochMs('window_start')} AS ws, ${epochMs('window_end')} AS we,
            click_count AS c, severity AS sv
       FROM mart_realtime_anomaly_sessions WHERE detected_ts >= $1::timestamptz AND detected_ts < $2::timestamptz
      ORDER BY detected_ts, session_id COLLATE "C"`,
    range,
  );
  return {
    traffic: traffic.rows.map((r) => ({ eventMinute: fromSqlEpoch(r.m), totalClicks: r.c, uniqueSessions: r.s, uniqueDocs: r.d })),
    topDocs: top.rows.map((r) => ({ snapshotTs: fromSqlEpoch(r.t), rank: r.r, documentId: r.d, title: r.ti, clickCount: r.c, uniqueSessions: r.s })),
    clinicalTrend: trend.rows.map((r) => ({ snapshotTs: fromSqlEpoch(r.t), clinicalArea: r.a, clickCount: r.c, uniqueSessions: r.s, trendPct: r.p })),
    anomalies: anomalies.rows.map((r) => ({
      detectedTs: fromSqlEpoch(r.d),
      sessionId: r.s,
      windowStart: fromSqlEpoch(r.ws),
      windowEnd: fromSqlEpoch(r.we),
      clickCount: r.c,
      severity: r.sv,
    })),
  };
}

/**
 * The same transaction locks the hot sink takes before it recombines a mart from its partials
 * (src/io/hot-sink/hot-mart-sink.ts lockMart), so a stream commit in flight and a reconcile
 * replace run one after the other, never interleaved.
 */
export async function lockHotMarts(tx: Queryable): Promise<void> {
  for (const mart of ['traffic', 'top_docs', 'clinical_trend']) {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tidemark:${mart}`]);
  }
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) out.push(rows.slice(i, i + INSERT_CHUNK));
  return out;
}

/** Deletes the day's hot rows and inserts `rows` as final. Call inside a transaction, after lockHotMarts. */
export async function replaceHotRows(tx: Queryable, from: number, to: number, rows: HotMartRows): Promise<void> {
  const range = [toSqlTimestamp(from), toSqlTimestamp(to)];
  for (const { table, key } of Object.values(HOT_TABLES)) {
    await tx.query(`DELETE FROM ${table} WHERE ${key} >= $1::timestamptz AND ${key} < $2::timestamptz`, range);
  }
  for (const c of chunks(rows.traffic)) {
    await tx.query(
      `INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs, is_final, updated_at)
       SELECT m, c, s, d, true, now() FROM unnest($1::timestamptz[], $2::int[], $3::int[], $4::int[]) AS x(m, c, s, d)`,
      [c.map((r) => toSqlTimestamp(r.eventMinute)), c.map((r) => r.totalClicks), c.map((r) => r.uniqueSessions), c.map((r) => r.uniqueDocs)],
    );
  }
  for (const c of chunks(rows.topDocs)) {
    await tx.query(
      `INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, title, click_count, unique_sessions, is_final, updated_at)
       SELECT t, r, d, ti, c, s, true, now() FROM unnest($1::timestamptz[], $2::int[], $3::bigint[], $4::text[], $5::int[], $6::int[]) AS x(t, r, d, ti, c, s)`,
      [c.map((r) => toSqlTimestamp(r.snapshotTs)), c.map((r) => r.rank), c.map((r) => r.documentId), c.map((r) => r.title), c.map((r) => r.clickCount), c.map((r) => r.uniqueSessions)],
    );
  }
  for (const c of chunks(rows.clinicalTrend)) {
    await tx.query(
      `INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct, is_final, updated_at)
       SELECT t, a, c, s, p, true, now() FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::int[], $5::numeric[]) AS x(t, a, c, s, p)`,
      [c.map((r) => toSqlTimestamp(r.snapshotTs)), c.map((r) => r.clinicalArea), c.map((r) => r.clickCount), c.map((r) => r.uniqueSessions), c.map((r) => r.trendPct)],
    );
  }
  for (const c of chunks(rows.anomalies)) {
    await tx.query(
      `INSERT INTO mart_realtime_anomaly_sessions (detected_ts, session_id, window_start, window_end, click_count, severity, is_final, updated_at)
       SELECT d, s, ws, we, c, sv, true, now() FROM unnest($1::timestamptz[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[]) AS x(d, s, ws, we, c, sv)`,
      [
        c.map((r) => toSqlTimestamp(r.detectedTs)),
        c.map((r) => r.sessionId),
        c.map((r) => toSqlTimestamp(r.windowStart)),
        c.map((r) => toSqlTimestamp(r.windowEnd)),
        c.map((r) => r.clickCount),
        c.map((r) => r.severity),
      ],
    );
  }
}

/** Row counts of each hot table in [from, to). */
export async function hotRowCounts(db: Queryable, from: number, to: number): Promise<Record<keyof typeof HOT_TABLES, number>> {
  const out = {} as Record<keyof typeof HOT_TABLES, number>;
  for (const [name, { table, key }] of Object.entries(HOT_TABLES) as [keyof typeof HOT_TABLES, (typeof HOT_TABLES)[keyof typeof HOT_TABLES]][]) {
    const result = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${key} >= $1::timestamptz AND ${key} < $2::timestamptz`,
      [toSqlTimestamp(from), toSqlTimestamp(to)],
    );
    out[name] = result.rows[0]?.n ?? 0;
  }
  return out;
}
