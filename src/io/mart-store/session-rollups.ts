// The dashboards' session rollups (db/migrations/020): histograms on fixed buckets, exact
// percentiles and sessions per click count, per event_date, computed in the database from the
// stored mart_session_analysis rows. Computing them where the rows are keeps them exact (no
// sample, nothing held in Node) and lets them be replaced in the transaction that replaces the
// sessions themselves.
import type { Queryable } from '../db/database.ts';

export const SESSION_ROLLUP_TABLES = ['mart_session_histogram', 'mart_session_percentiles', 'mart_session_clicks'] as const;
export type SessionRollupTable = (typeof SESSION_ROLLUP_TABLES)[number];

/** The measures of mart_session_analysis the rollups describe, and the column each one reads. */
export const ROLLUP_MEASURES = { duration_sec: 'session_duration_sec', clicks: 'click_count' } as const;

/** Which days: a list of dates, or every date that has sessions (full refresh). */
export type RollupDays = readonly string[] | 'all';

function dayFilter(days: RollupDays, column = 'event_date'): { where: string; params: unknown[] } {
  return days === 'all' ? { where: 'true', params: [] } : { where: `${column} = ANY($1::date[])`, params: [days] };
}

// The measure names and column names below come from ROLLUP_MEASURES, never from input.
function histogramSql(where: string): string {
  const perMeasure = Object.entries(ROLLUP_MEASURES).map(
    ([measure, column]) => `SELECT event_date, '${measure}'::text AS measure,
            width_bucket(${column}, (SELECT array_agg(lower_bound ORDER BY bucket) FROM session_histogram_buckets WHERE measure = '${measure}')) AS bucket,
            count(*)::int AS sessions
       FROM mart_session_analysis WHERE ${where} GROUP BY 1, 3`,
  );
  // Every bucket of every day with sessions gets a row; the empty ones 0.
  return `INSERT INTO mart_session_histogram (event_date, measure, bucket, lower_bound, upper_bound, label, sessions, computed_at)
    WITH counted AS (${perMeasure.join(' UNION ALL ')})
    SELECT d.event_date, b.measure, b.bucket, b.lower_bound, b.upper_bound, b.label, coalesce(c.sessions, 0), now()
      FROM (SELECT DISTINCT event_date FROM counted) d
     CROSS JOIN session_histogram_buckets b
      LEFT JOIN counted c ON c.event_date = d.event_date AND c.measure = b.measure AND c.bucket = b.bucket`;
}

function percentilesSql(where: string): string {
  const perMeasure = Object.entries(ROLLUP_MEASURES).map(
    ([measure, column]) => `SELECT event_date, '${measure}'::text AS measure, count(*)::int AS sessions, min(${column}) AS lo, max(${column}) AS hi,
            round(avg(${column}), 2) AS mean,
            percentile_disc(ARRAY[0.25, 0.5, 0.75, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY ${column}) AS p
       FROM mart_session_analysis WHERE ${where} GROUP BY event_date`,
  );
  return `INSERT INTO mart_session_percentiles (event_date, measure, sessions, min_value, p25, p50, p75, p90, p99, max_value, mean, computed_at)
    SELECT event_date, measure, sessions, lo, p[1], p[2], p[3], p[4], p[5], hi, mean, now()
      FROM (${perMeasure.join(' UNION ALL ')}) x`;
}

function clicksSql(where: string): string {
  return `INSERT INTO mart_session_clicks (event_date, click_count, sessions, computed_at)
    SELECT event_date, click_count, count(*)::int, now() FROM mart_session_analysis WHERE ${where} GROUP BY 1, 2`;
}

/**
 * Replaces the rollups of `days` with what the stored sessions of those days give. Run it in
 * the transaction that wrote the sessions (after them): the rollups then commit or roll back
 * with the day. A day without sessions ends up with no rollup rows.
 */
export async function replaceSessionRollups(tx: Queryable, days: RollupDays): Promise<Record<SessionRollupTable, number>> {
  const { where, params } = dayFilter(days);
  for (const table of SESSION_ROLLUP_TABLES) await tx.query(`DELETE FROM ${table} WHERE ${where}`, params);
  return {
    mart_session_histogram: (await tx.query(histogramSql(where), params)).rowCount,
    mart_session_percentiles: (await tx.query(percentilesSql(where), params)).rowCount,
    mart_session_clicks: (await tx.query(clicksSql(where), params)).rowCount,
  };
}
