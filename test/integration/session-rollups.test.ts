// The dashboards' session rollups (db/migrations/020, 021) on PostgreSQL and PGlite: what
// replaceSessionRollups writes equals what percentile_disc, count and the bucket table give
// over the stored sessions; a recompute replaces a day; the weekday view pools its days.
import { afterAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/io/db/database.ts';
import { replaceSessionRollups } from '../../src/io/mart-store/session-rollups.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

// Deterministic sessions: clicks 1…40 and durations 0…3999 s with a long tail.
async function insertSessions(db: Queryable, date: string, count: number, seed: number): Promise<void> {
  await db.query(
    `INSERT INTO mart_session_analysis (session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts)
     SELECT 's-' || i, $1::date, c, 1, t, t + make_interval(secs => du)
       FROM (SELECT i, 1 + ((i * $3::int) % 97) * ((i * $3::int) % 97) / 240 AS c,
                    ((i * 7919 + $3::int) % 4000) * ((i * 31) % 5) / 4 AS du, $1::date::timestamp AT TIME ZONE 'UTC' AS t
               FROM generate_series(1, $2::int) AS i) x`,
    [date, count, seed],
  );
}

async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query<T>(sql, params)).rows;
}

const DIRECT_PERCENTILES = `
  SELECT event_date::text AS d, m, count(*)::int AS n, min(v) AS lo, max(v) AS hi, round(avg(v), 2)::text AS mean,
         percentile_disc(ARRAY[0.25, 0.5, 0.75, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY v) AS p
    FROM (SELECT event_date, 'clicks' AS m, click_count AS v FROM mart_session_analysis
          UNION ALL SELECT event_date, 'duration_sec', session_duration_sec FROM mart_session_analysis) x
   GROUP BY 1, 2 ORDER BY 1, 2`;
const STORED_PERCENTILES = `
  SELECT event_date::text AS d, measure AS m, sessions AS n, min_value AS lo, max_value AS hi, mean::text AS mean,
         ARRAY[p25, p50, p75, p90, p99] AS p
    FROM mart_session_percentiles ORDER BY 1, 2`;
const DIRECT_HISTOGRAM = `
  SELECT d.event_date::text AS d, b.measure AS m, b.label,
         (SELECT count(*)::int FROM mart_session_analysis s
           WHERE s.event_date = d.event_date
             AND CASE b.measure WHEN 'clicks' THEN s.click_count ELSE s.session_duration_sec END >= b.lower_bound
             AND (b.upper_bound IS NULL OR CASE b.measure WHEN 'clicks' THEN s.click_count ELSE s.session_duration_sec END < b.upper_bound)) AS n
    FROM (SELECT DISTINCT event_date FROM mart_session_analysis) d CROSS JOIN session_histogram_buckets b
   ORDER BY 1, 2, b.bucket`;

describe.each(testDatabaseFactories())('session rollups on $label', (factory) => {
  let t: TestDatabase | undefined;
  afterAll(async () => t?.dispose());

  it('equal percentile_disc, bucket counts and click counts over the stored sessions, day by day', async () => {
    t = await factory.create();
    const { db } = t;
    await insertSessions(db, '2026-03-02', 5000, 13);
    await insertSessions(db, '2026-03-09', 3001, 17);
    await insertSessions(db, '2026-03-10', 1, 5);
    const written = await db.transaction((tx) => replaceSessionRollups(tx, ['2026-03-02', '2026-03-09', '2026-03-10']));
    expect(written).toMatchObject({ mart_session_histogram: 60, mart_session_percentiles: 6 });

    expect(await rows(db, STORED_PERCENTILES)).toEqual(await rows(db, DIRECT_PERCENTILES));
    const histogram = `SELECT event_date::text AS d, measure AS m, label, sessions AS n FROM mart_session_histogram ORDER BY 1, 2, bucket`;
    expect(await rows(db, histogram)).toEqual(await rows(db, DIRECT_HISTOGRAM));
    expect(await rows(db, `SELECT event_date::text AS d, click_count AS c, sessions AS n FROM mart_session_clicks ORDER BY 1, 2`)).toEqual(
      await rows(db, `SELECT event_date::text AS d, click_count AS c, count(*)::int AS n FROM mart_session_analysis GROUP BY 1, 2 ORDER BY 1, 2`),
    );

    // The weekday view: the newest 28 days (all three here), pooled by weekday (Mon 2nd and 9th).
    const view = await rows<{ weekday: string; stat: string; clicks: number; sessions: string }>(
      db,
      `SELECT weekday, stat, clicks, sessions::text AS sessions FROM dash_session_clicks_by_weekday ORDER BY 1, 2`,
    );
    const pooled = await rows<{ weekday: string; p: number[]; n: string }>(
      db,
      `SELECT to_char(event_date, 'ID Dy') AS weekday, count(*)::text AS n,
              percentile_disc(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]::float8[]) WITHIN GROUP (ORDER BY click_count) AS p
         FROM mart_session_analysis GROUP BY 1 ORDER BY 1`,
    );
    expect(view).toEqual(
      pooled.flatMap((r) => ['p10', 'p25', 'p50', 'p75', 'p90'].map((stat, i) => ({ weekday: r.weekday, stat, clicks: r.p[i], sessions: r.n }))),
    );
    expect(pooled.map((r) => [r.weekday, r.n])).toEqual([['1 Mon', '8001'], ['2 Tue', '1']]);
  });

  it('replaces a recomputed day and drops the rollups of a day without sessions', async () => {
    if (t === undefined) throw new Error('no database');
    const { db } = t;
    await db.query(`DELETE FROM mart_session_analysis WHERE event_date IN ('2026-03-02', '2026-03-10')`);
    await insertSessions(db, '2026-03-02', 700, 3);
    await db.transaction((tx) => replaceSessionRollups(tx, ['2026-03-02', '2026-03-10']));
    expect(await rows(db, STORED_PERCENTILES)).toEqual(await rows(db, DIRECT_PERCENTILES));
    expect(await rows(db, `SELECT DISTINCT event_date::text AS d FROM mart_session_histogram ORDER BY 1`)).toEqual([{ d: '2026-03-02' }, { d: '2026-03-09' }]);
    // Full refresh recomputes every day at once.
    await db.query(`DELETE FROM mart_session_percentiles`);
    await db.transaction((tx) => replaceSessionRollups(tx, 'all'));
    expect(await rows(db, STORED_PERCENTILES)).toEqual(await rows(db, DIRECT_PERCENTILES));
  });
});
