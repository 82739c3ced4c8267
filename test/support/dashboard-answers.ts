// The exact answer of every chart of the Superset bundle, computed directly in SQL from the
// marts (sessions from mart_session_analysis itself, not from the rollups the charts read), and
// how to read the same answer out of the rows Superset returns for the chart. Used by the
// Superset test at scale: each chart's data must equal its answer.
import type { Queryable } from '../../src/io/db/database.ts';

type Row = Readonly<Record<string, unknown>>;

export interface ChartCheck {
  readonly chart: string;
  /** The chart is a top-N by design (its row limit is the N): reaching the limit is the answer. */
  readonly topN?: number;
  expected(db: Queryable): Promise<unknown>;
  actual(rows: readonly Row[]): unknown;
}

async function all<T>(db: Queryable, sql: string): Promise<T[]> {
  return (await db.query<T>(sql)).rows;
}

/** 'YYYY-MM-DD' or an instant as Superset sends a temporal x value: epoch milliseconds, UTC. */
const ms = (value: unknown): number => (typeof value === 'string' && value.length === 10 ? Date.parse(`${value}T00:00:00Z`) : Number(value));

/** A pivoted series column: Superset names it "<metric>, <group>" or "<group>"; both give the group. */
function series(row: Row, xAxis: string, metric: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(row)) {
    if (key === xAxis || value === null) continue;
    out.set(key.startsWith(`${metric}, `) ? key.slice(metric.length + 2) : key, value);
  }
  return out;
}

/** ["x|group", value] for every non-empty cell of a pivoted time series, in key order. */
function cells(rows: readonly Row[], xAxis: string, metric: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const row of rows) for (const [group, value] of series(row, xAxis, metric)) out.push([`${ms(row[xAxis])}|${group}`, value]);
  return out.sort(([a], [b]) => a.localeCompare(b));
}

function cellsOf(rows: readonly { x: unknown; g: string; v: unknown }[]): [string, unknown][] {
  return rows.map((r): [string, unknown] => [`${ms(r.x)}|${r.g}`, r.v]).sort(([a], [b]) => a.localeCompare(b));
}

const pick = (rows: readonly Row[], ...keys: string[]): unknown[][] => rows.map((r) => keys.map((k) => r[k]));

const NEWEST = (table: string, days: number): string => `event_date > (SELECT max(event_date) FROM ${table}) - ${days}`;

/** A measure of every session as SQL, for the histograms and percentiles straight from the sessions. */
const SESSION_VALUE: Record<string, string> = { duration_sec: 'session_duration_sec', clicks: 'click_count' };

function histogramCheck(chart: string, measure: 'duration_sec' | 'clicks'): ChartCheck {
  const value = SESSION_VALUE[measure] ?? '';
  return {
    chart,
    expected: async (db) =>
      all(
        db,
        // Sessions counted per distinct value first, then summed into the bucket ranges of the
        // bucket table (a range join, not the width_bucket the rollup uses).
        `WITH v AS (SELECT ${value} AS v, count(*) AS n FROM mart_session_analysis WHERE ${NEWEST('mart_session_analysis', 7)} GROUP BY 1)
         SELECT b.label, coalesce(sum(v.n), 0)::int AS n
           FROM session_histogram_buckets b
           LEFT JOIN v ON v.v >= b.lower_bound AND (b.upper_bound IS NULL OR v.v < b.upper_bound)
          WHERE b.measure = '${measure}' GROUP BY b.bucket, b.label ORDER BY b.bucket`,
      ).then((rows) => rows.map((r) => Object.values(r as Row))),
    actual: (rows) => pick(rows, 'label', 'sessions'),
  };
}

export const CHART_CHECKS: readonly ChartCheck[] = [
  {
    chart: 'Events per day, all days (MART_TIMEZONE)',
    expected: async (db) => (await all<{ d: string; n: number }>(db, 'SELECT event_date::text AS d, total_events AS n FROM mart_daily_traffic ORDER BY 1')).map((r) => [ms(r.d), r.n]),
    actual: (rows) => rows.map((r) => [ms(r['event_date']), r['events']]),
  },
  {
    chart: 'Unique sessions per day, all days (MART_TIMEZONE)',
    expected: async (db) => (await all<{ d: string; n: number }>(db, 'SELECT event_date::text AS d, unique_sessions AS n FROM mart_daily_traffic ORDER BY 1')).map((r) => [ms(r.d), r.n]),
    actual: (rows) => rows.map((r) => [ms(r['event_date']), r['sessions']]),
  },
  {
    chart: 'Days by peak hour and weekday, all days (hours in MART_TIMEZONE)',
    expected: async (db) =>
      (await all<Row>(db, `SELECT peak_hour, to_char(event_date, 'ID Dy') AS weekday, count(*)::int AS days FROM mart_daily_traffic GROUP BY 1, 2`))
        .map((r) => JSON.stringify([r['peak_hour'], r['weekday'], r['days']]))
        .sort(),
    actual: (rows) => rows.map((r) => JSON.stringify([r['peak_hour'], r['weekday'], r['days']])).sort(),
  },
  {
    chart: 'Clinical area share of events, newest 30 days (MART_TIMEZONE)',
    expected: async (db) =>
      pick(await all<Row>(db, `SELECT clinical_area, sum(search_count)::int AS n FROM mart_clinical_areas WHERE ${NEWEST('mart_clinical_areas', 30)} GROUP BY 1 ORDER BY 2 DESC, 1`), 'clinical_area', 'n'),
    actual: (rows) => pick(rows, 'clinical_area', 'searches'),
  },
  {
    chart: 'Top 10 clinical areas, newest 30 days (MART_TIMEZONE)',
    topN: 10,
    expected: async (db) =>
      pick(
        await all<Row>(db, `SELECT clinical_area, sum(search_count)::int AS s, sum(unique_sessions)::int AS u FROM mart_clinical_areas WHERE ${NEWEST('mart_clinical_areas', 30)} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`),
        'clinical_area', 's', 'u',
      ),
    actual: (rows) => pick(rows, 'clinical_area', 'searches', 'sessions'),
  },
  {
    chart: 'Events per day, 10 biggest clinical areas, all days (MART_TIMEZONE)',
    expected: async (db) =>
      cellsOf(
        await all(
          db,
          `SELECT event_date::text AS x, clinical_area AS g, sum(search_count)::int AS v FROM mart_clinical_areas
            WHERE clinical_area IN (SELECT clinical_area FROM mart_clinical_areas GROUP BY 1 ORDER BY sum(search_count) DESC LIMIT 10)
            GROUP BY 1, 2`,
        ),
      ),
    actual: (rows) => cells(rows, 'event_date', 'searches'),
  },
  {
    chart: 'Top 20 documents, newest 7 days (MART_TIMEZONE)',
    topN: 20,
    expected: async (db) =>
      pick(
        await all<Row>(
          db,
          `SELECT document_id::text AS id, title, sum(view_count)::int AS v, sum(unique_sessions)::int AS s FROM mart_popular_documents
            WHERE ${NEWEST('mart_popular_documents', 7)} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20`,
        ),
        'id', 'title', 'v', 's',
      ),
    actual: (rows) => pick(rows, 'document_id', 'title', 'views', 'sessions'),
  },
  {
    chart: 'Views per day, 10 most viewed documents, newest 30 days (MART_TIMEZONE)',
    expected: async (db) =>
      cellsOf(
        await all(
          db,
          `WITH w AS (SELECT * FROM mart_popular_documents WHERE ${NEWEST('mart_popular_documents', 30)})
           SELECT event_date::text AS x, title AS g, sum(view_count)::int AS v FROM w
            WHERE title IN (SELECT title FROM w GROUP BY 1 ORDER BY sum(view_count) DESC LIMIT 10) GROUP BY 1, 2`,
        ),
      ),
    actual: (rows) => cells(rows, 'event_date', 'views'),
  },
  {
    chart: 'Clicks and sessions per minute, newest 6 h (UTC)',
    expected: async (db) =>
      pick(
        await all<Row>(
          db,
          `SELECT (extract(epoch FROM event_minute) * 1000)::float8 AS x, total_clicks AS c, unique_sessions AS s FROM mart_realtime_traffic_minute
            WHERE event_minute > (SELECT max(event_minute) FROM mart_realtime_traffic_minute) - INTERVAL '6 hours' ORDER BY 1`,
        ),
        'x', 'c', 's',
      ),
    actual: (rows) => rows.map((r) => [ms(r['event_minute']), r['clicks'], r['sessions']]),
  },
  {
    chart: 'Top 20 documents of the hour, newest snapshot (UTC)',
    topN: 20,
    expected: async (db) =>
      pick(
        await all<Row>(
          db,
          `SELECT rank, document_id::text AS id, click_count FROM mart_realtime_top_docs_1h
            WHERE snapshot_ts = (SELECT max(snapshot_ts) FROM mart_realtime_top_docs_1h) ORDER BY rank`,
        ),
        'rank', 'id', 'click_count',
      ),
    actual: (rows) => pick(rows, 'rank', 'document_id', 'click_count'),
  },
  {
    chart: 'Clicks per clinical area, newest 24 h snapshot',
    expected: async (db) =>
      pick(
        await all<Row>(db, `SELECT clinical_area, click_count FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts = (SELECT max(snapshot_ts) FROM mart_realtime_clinical_trend_24h) ORDER BY 1`),
        'clinical_area', 'click_count',
      ),
    actual: (rows) => pick(rows, 'clinical_area', 'clicks').sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  },
  {
    chart: 'Clinical areas, trend % against the 24 h before, newest snapshot',
    expected: async (db) =>
      pick(
        await all<Row>(db, `SELECT clinical_area, trend_pct::float8 AS t FROM mart_realtime_clinical_trend_24h WHERE snapshot_ts = (SELECT max(snapshot_ts) FROM mart_realtime_clinical_trend_24h) ORDER BY 1`),
        'clinical_area', 't',
      ),
    actual: (rows) => pick(rows, 'clinical_area', 'trend').sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  },
  {
    chart: 'Anomalous sessions, newest 100 episodes (UTC)',
    topN: 100,
    expected: async (db) =>
      pick(await all<Row>(db, `SELECT session_id, severity, click_count FROM mart_realtime_anomaly_sessions ORDER BY detected_ts DESC LIMIT 100`), 'session_id', 'severity', 'click_count'),
    actual: (rows) => pick(rows, 'session_id', 'severity', 'click_count'),
  },
  {
    chart: 'Anomaly episodes per 5 min, newest 24 h (UTC)',
    expected: async (db) =>
      cellsOf(
        await all(
          db,
          `SELECT (floor(extract(epoch FROM detected_ts) / 300) * 300000)::float8 AS x, severity AS g, count(*)::int AS v FROM mart_realtime_anomaly_sessions
            WHERE detected_ts > (SELECT max(detected_ts) FROM mart_realtime_anomaly_sessions) - INTERVAL '24 hours' GROUP BY 1, 2`,
        ),
      ),
    actual: (rows) => cells(rows, 'detected_ts', 'episodes'),
  },
  histogramCheck('Session duration, newest 7 days (days in MART_TIMEZONE)', 'duration_sec'),
  histogramCheck('Clicks per session, newest 7 days (days in MART_TIMEZONE)', 'clicks'),
  {
    chart: 'Session duration percentiles per day (s), newest 30 days (days in MART_TIMEZONE)',
    expected: async (db) =>
      (
        await all<{ d: string; p: number[] }>(
          db,
          `SELECT event_date::text AS d, percentile_disc(ARRAY[0.25, 0.5, 0.75, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY session_duration_sec) AS p
             FROM mart_session_analysis WHERE ${NEWEST('mart_session_analysis', 30)} GROUP BY 1 ORDER BY 1`,
        )
      ).map((r) => [ms(r.d), ...r.p]),
    actual: (rows) => rows.map((r) => [ms(r['event_date']), r['p25'], r['p50'], r['p75'], r['p90'], r['p99']]),
  },
  {
    chart: 'Clicks per session by weekday, newest 28 days (box p25–p75, whiskers p10–p90, MART_TIMEZONE)',
    expected: async (db) =>
      (
        await all<{ w: string; p: number[] }>(
          db,
          `SELECT to_char(event_date, 'ID Dy') AS w, percentile_disc(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY click_count) AS p
             FROM mart_session_analysis WHERE ${NEWEST('mart_session_analysis', 28)} GROUP BY 1 ORDER BY 1`,
        )
      ).map((r) => [r.w, ...r.p]),
    actual: (rows) =>
      [...rows]
        .map((r) => [r['weekday'], r['clicks__min'], r['clicks__q1'], r['clicks__median'], r['clicks__q3'], r['clicks__max']])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  },
];
