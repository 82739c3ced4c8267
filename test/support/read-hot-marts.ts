// Reads the four hot marts back from the database as the shared row types, ordered like the
// reference evaluator's output, so tests can compare them with toEqual.
import type { Queryable } from '../../src/io/db/database.ts';
import { epochMs, fromSqlEpoch } from '../../src/io/hot-sink/timestamps.ts';
import type { HotMartRows, Severity } from '../../src/marts/types.ts';

export async function readHotMarts(db: Queryable, options: { maxSnapshotTs?: number } = {}): Promise<HotMartRows> {
  const limit = options.maxSnapshotTs === undefined ? 'infinity' : new Date(options.maxSnapshotTs).toISOString();
  const traffic = await db.query<{ m: unknown; c: number; s: number; d: number }>(
    `SELECT ${epochMs('event_minute')} AS m, total_clicks AS c, unique_sessions AS s, unique_docs AS d
       FROM mart_realtime_traffic_minute ORDER BY event_minute`,
  );
  const top = await db.query<{ t: unknown; r: number; d: string; ti: string | null; c: number; s: number }>(
    `SELECT ${epochMs('snapshot_ts')} AS t, rank AS r, document_id::text AS d, title AS ti, click_count AS c, unique_sessions AS s
       FROM mart_realtime_top_docs_1h WHERE snapshot_ts <= $1::timestamptz ORDER BY snapshot_ts, rank`,
    [limit],
  );
  const trend = await db.query<{ t: unknown; a: string; c: number; s: number; p: string | null }>(
    `SELECT ${epochMs('snapshot_ts')} AS t, clinical_area AS a, click_count AS c, unique_sessions AS s, trend_pct::text AS p
       FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts <= $1::timestamptz ORDER BY snapshot_ts, clinical_area COLLATE "C"`,
    [limit],
  );
  const anomalies = await db.query<{ d: unknown; s: string; ws: unknown; we: unknown; c: number; sv: Severity }>(
    `SELECT ${epochMs('detected_ts')} AS d, session_id AS s, ${epochMs('window_start')} AS ws, ${epochMs('window_end')} AS we,
            click_count AS c, severity AS sv
       FROM mart_realtime_anomaly_sessions ORDER BY detected_ts, session_id COLLATE "C"`,
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
