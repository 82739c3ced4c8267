// Marts at production scale, generated in SQL for the dashboard test and benchmark: per day
// `sessions` rows of mart_session_analysis (2.2M at 10M events a day), `documents` rows of
// mart_popular_documents, 40 clinical areas, one daily-traffic row, and the hot marts of the
// day (a row per minute, a top-20 and a clinical snapshot per minute, 1,000 anomaly episodes).
// Then the session rollups, computed as the cold step computes them. Values are skewed like the
// real ones (many one-click sessions, a long tail, a few anomalous sessions with hundreds of
// clicks) and such that every top-N is free of ties, so "the exact answer" is one list.
import type { Database } from '../../src/io/db/database.ts';
import { replaceSessionRollups } from '../../src/io/mart-store/session-rollups.ts';

export interface ScaleOptions {
  /** The days, 'YYYY-MM-DD', each a UTC day. */
  readonly dates: readonly string[];
  readonly sessions: number;
  readonly documents: number;
  /** Called with what was done and how long it took, for the benchmark's log. */
  readonly onStep?: (what: string, ms: number) => void;
}

export const SCALE_AREAS = 40;

/** One day's sessions; random() only shapes the distribution, the checks read the rows back. */
const SESSIONS_SQL = `
INSERT INTO mart_session_analysis (session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts)
SELECT 's' || to_char($1::date, 'YYYYMMDD') || '-' || lpad(i::text, 8, '0'), $1::date, c, 1 + i % c,
       t0, t0 + make_interval(secs => du)
  FROM (SELECT i, c, ($1::date::timestamp AT TIME ZONE 'UTC') + make_interval(secs => floor(random() * 80000)) AS t0,
               CASE WHEN c = 1 THEN 0 ELSE least(floor(-ln(1 - random()) * 90 * sqrt(c))::int, 7200) END AS du
          FROM (SELECT i, CASE WHEN i % 997 = 0 THEN 100 + i % 400 ELSE 1 + floor(-ln(1 - random()) * 3.5)::int END AS c
                  FROM generate_series(1, $2::int) AS i) s) x`;

const DOCUMENTS_SQL = `
INSERT INTO mart_popular_documents (event_date, document_id, title, view_count, unique_sessions)
SELECT $1::date, 1000000 + d, 'Document ' || d, v, greatest(1, v / 3)
  FROM (SELECT d, (20000000 / d + (d * 7 + $3::int) % 13)::int AS v FROM generate_series(1, $2::int) AS d) x`;

const AREAS_SQL = `
INSERT INTO mart_clinical_areas (event_date, clinical_area, search_count, unique_sessions)
SELECT $1::date, 'Area ' || lpad(a::text, 2, '0'), 400000 / a + $2::int, 100000 / a + 1
  FROM generate_series(1, ${SCALE_AREAS}) AS a`;

const DAILY_SQL = `
INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour)
VALUES ($1::date, 10000000 + $2::int * 1000, $3::int, $4::int, ($2::int * 5) % 24)`;

const TRAFFIC_SQL = `
INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs, is_final)
SELECT m, 5000 + k % 977, 1000 + k % 331, 800 + k % 97, true
  FROM (SELECT ($1::date::timestamp AT TIME ZONE 'UTC') + make_interval(mins => k) AS m, k FROM generate_series(0, 1439) AS k) x`;

const TOP_DOCS_SQL = `
INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, title, click_count, unique_sessions, is_final)
SELECT ($1::date::timestamp AT TIME ZONE 'UTC') + make_interval(mins => k), r, r * 1000000 + k, 'Document ' || (r * 1000000 + k),
       20000 - r * 500 + k % 50, 1000 - r * 10, true
  FROM generate_series(0, 1439) AS k CROSS JOIN generate_series(1, 20) AS r`;

const TREND_SQL = `
INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct, is_final)
SELECT ($1::date::timestamp AT TIME ZONE 'UTC') + make_interval(mins => k), 'Area ' || lpad(a::text, 2, '0'),
       200000 / a + k, 50000 / a, ((a * 37 + k) % 300 - 100)::numeric(10, 2), true
  FROM generate_series(0, 1439) AS k CROSS JOIN generate_series(1, 12) AS a`;

const ANOMALIES_SQL = `
INSERT INTO mart_realtime_anomaly_sessions (detected_ts, session_id, window_start, window_end, click_count, severity, is_final)
SELECT t, 'anomaly-' || to_char($1::date, 'YYYYMMDD') || '-' || k, t - INTERVAL '60 seconds', t, 30 + k % 70,
       CASE WHEN k % 5 = 0 THEN 'CRITICAL' ELSE 'WARNING' END, true
  FROM (SELECT ($1::date::timestamp AT TIME ZONE 'UTC') + make_interval(secs => k * 86) AS t, k FROM generate_series(0, 999) AS k) x`;

/** Fills every mart for the given days and computes the session rollups of those days. */
export async function fillMartsAtScale(db: Database, options: ScaleOptions): Promise<void> {
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    const started = performance.now();
    await fn();
    options.onStep?.(what, performance.now() - started);
  };
  for (const [index, date] of options.dates.entries()) {
    await step(`${date}: ${options.sessions} sessions`, () => db.query(SESSIONS_SQL, [date, options.sessions]));
    await step(`${date}: other marts`, async () => {
      await db.query(DOCUMENTS_SQL, [date, options.documents, index]);
      await db.query(AREAS_SQL, [date, index]);
      await db.query(DAILY_SQL, [date, index, options.sessions, options.documents]);
      await db.query(TRAFFIC_SQL, [date]);
      await db.query(TOP_DOCS_SQL, [date]);
      await db.query(TREND_SQL, [date]);
      await db.query(ANOMALIES_SQL, [date]);
    });
    await step(`${date}: session rollups`, () => db.transaction((tx) => replaceSessionRollups(tx, [date])));
  }
  await step('ANALYZE', () => db.exec('ANALYZE'));
}
