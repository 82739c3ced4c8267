// The dashboards' session rollups (db/migrations/020): histograms on fixed buckets, exact
// percentiles and sessions per click count, per event_date, computed in the database from the
// stored mart_session_analysis rows. Computing them where the rows are keeps them exact (no
// sample, nothing held in Node) and lets them be replaced in the transaction that replaces the
// sessions themselves.
import { SESSION_ROLLUP_TABLES } from '../../marts/mart-registry.ts';
import type { SessionRollupName } from '../../marts/mart-registry.ts';
import type { SessionRollupTotals } from '../../batch/quality-checks.ts';
import type { Queryable } from '../db/database.ts';

export { SESSION_ROLLUP_TABLES };

/** The measures of mart_session_analysis the rollups describe, and the column each one reads. */
export const ROLLUP_MEASURES = { duration_sec: 'session_duration_sec', clicks: 'click_count' } as const;

/** Which days: a list of dates, or every date that has sessions (full refresh). */
export type RollupDays = readonly string[] | 'all';

function dayFilter(days: RollupDays): { where: string; params: unknown[] } {
  return days === 'all' ? { where: 'true', params: [] } : { where: 'event_date = ANY($1::date[])', params: [days] };
}

// One statement, one scan of the day's sessions: they are counted per distinct value of each
// measure (a few thousand rows a day), and the three rollups are written from those counts by
// data-modifying CTEs. A percentile is the value at row ceil(fraction × sessions) in value order,
// computed exactly as percentile_disc computes it, without sorting millions of rows twice.
// The measure and column names come from ROLLUP_MEASURES, never from input.
function rollupSql(where: string): string {
  const perMeasure = Object.entries(ROLLUP_MEASURES).map(
    ([measure, column]) => `SELECT event_date, '${measure}'::text AS measure, ${column} AS value, count(*)::int AS sessions
       FROM mart_session_analysis WHERE ${where} GROUP BY event_date, ${column}`,
  );
  return `WITH counts AS MATERIALIZED (${perMeasure.join(' UNION ALL ')}),
  cumulative AS MATERIALIZED (
    SELECT event_date, measure, value, sessions,
           sum(sessions) OVER (PARTITION BY event_date, measure ORDER BY value) AS up_to,
           sum(sessions) OVER (PARTITION BY event_date, measure) AS total
      FROM counts),
  bounds AS (
    SELECT measure, array_agg(lower_bound ORDER BY bucket) AS lower_bounds FROM session_histogram_buckets GROUP BY measure),
  bucketed AS (
    SELECT c.event_date, c.measure, width_bucket(c.value, b.lower_bounds) AS bucket, sum(c.sessions)::int AS sessions
      FROM counts c JOIN bounds b USING (measure) GROUP BY 1, 2, 3),
  histogram AS (
    INSERT INTO mart_session_histogram (event_date, measure, bucket, lower_bound, upper_bound, label, sessions, computed_at)
    SELECT d.event_date, b.measure, b.bucket, b.lower_bound, b.upper_bound, b.label, coalesce(x.sessions, 0), now()
      FROM (SELECT DISTINCT event_date FROM counts) d
     CROSS JOIN session_histogram_buckets b
      LEFT JOIN bucketed x ON x.event_date = d.event_date AND x.measure = b.measure AND x.bucket = b.bucket
    RETURNING 1),
  percentiles AS (
    INSERT INTO mart_session_percentiles (event_date, measure, sessions, min_value, p25, p50, p75, p90, p99, max_value, mean, computed_at)
    SELECT event_date, measure, max(total)::int, min(value),
           min(value) FILTER (WHERE up_to >= ceil(0.25::float8 * total::float8)),
           min(value) FILTER (WHERE up_to >= ceil(0.5::float8 * total::float8)),
           min(value) FILTER (WHERE up_to >= ceil(0.75::float8 * total::float8)),
           min(value) FILTER (WHERE up_to >= ceil(0.9::float8 * total::float8)),
           min(value) FILTER (WHERE up_to >= ceil(0.99::float8 * total::float8)),
           max(value), round(sum(value::numeric * sessions) / max(total), 2), now()
      FROM cumulative GROUP BY event_date, measure
    RETURNING 1),
  clicks AS (
    INSERT INTO mart_session_clicks (event_date, click_count, sessions, computed_at)
    SELECT event_date, value, sessions, now() FROM counts WHERE measure = 'clicks'
    RETURNING 1)
  SELECT (SELECT count(*) FROM histogram)::int AS histogram, (SELECT count(*) FROM percentiles)::int AS percentiles,
         (SELECT count(*) FROM clicks)::int AS clicks`;
}

/**
 * Replaces the rollups of `days` with what the stored sessions of those days give. Run it in
 * the transaction that wrote the sessions (after them): the rollups then commit or roll back
 * with the day. A day without sessions ends up with no rollup rows.
 */
export async function replaceSessionRollups(tx: Queryable, days: RollupDays): Promise<Record<SessionRollupName, number>> {
  const { where, params } = dayFilter(days);
  for (const table of SESSION_ROLLUP_TABLES) await tx.query(`DELETE FROM ${table} WHERE ${where}`, params);
  const written = await tx.query<{ histogram: number; percentiles: number; clicks: number }>(rollupSql(where), params);
  const row = written.rows[0];
  return {
    mart_session_histogram: row?.histogram ?? 0,
    mart_session_percentiles: row?.percentiles ?? 0,
    mart_session_clicks: row?.clicks ?? 0,
  };
}

/** The day's session count and, per rollup and measure, the sessions the rollup accounts for. */
export async function sessionRollupTotals(db: Queryable, date: string): Promise<SessionRollupTotals> {
  const { rows } = await db.query<{ sessions: number; histogram: number[]; percentiles: number[]; clicks: number[] }>(
    `SELECT (SELECT count(*)::int FROM mart_session_analysis WHERE event_date = $1::date) AS sessions,
            ARRAY(SELECT sum(sessions)::int FROM mart_session_histogram WHERE event_date = $1::date GROUP BY measure ORDER BY measure) AS histogram,
            ARRAY(SELECT sessions FROM mart_session_percentiles WHERE event_date = $1::date ORDER BY measure) AS percentiles,
            ARRAY(SELECT sum(sessions)::int FROM mart_session_clicks WHERE event_date = $1::date HAVING count(*) > 0) AS clicks`,
    [date],
  );
  const row = rows[0];
  return {
    sessions: row?.sessions ?? 0,
    totals: { mart_session_histogram: row?.histogram ?? [], mart_session_percentiles: row?.percentiles ?? [], mart_session_clicks: row?.clicks ?? [] },
  };
}
