// Acceptance: the guarantees around the cold path's writes — a polling reader never sees a day
// partial, empty or doubled while it is replaced; no step computes a day the archive has not
// completed (DST days included); a cancelled recompute leaves the day as it was; full refresh
// and retention (dry run, then real) with exact counts; `tidemark reconcile` end to end.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { createLogger } from '../../src/io/log.ts';
import { DayStepCancelledError, DayStepNotReadyError } from '../../src/jobs/day-step.ts';
import { createDaySteps } from '../../src/jobs/day-steps/create-day-steps.ts';
import { fullRefresh } from '../../src/jobs/day-steps/full-refresh.ts';
import { QualityCheckFailedError } from '../../src/jobs/day-steps/quality-step.ts';
import { runRetention } from '../../src/jobs/retention.ts';
import { evaluateColdMarts } from '../../src/marts/reference-evaluator.ts';
import { addDays, endOfLocalDay, startOfLocalDay } from '../../src/marts/time-zone.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import type { ClickEvent, MartSettings } from '../../src/marts/types.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { agedRowCounts, dayEvents as eventsOfDay, seedAgedRows, setArchiveWatermark } from '../support/cold-path-fixtures.ts';
import { writeArchive } from '../support/lake-archive.ts';
import { runCli } from '../support/run-cli.ts';

const ZONE = 'Europe/Berlin';
const SETTINGS: MartSettings = { ...DEFAULT_MART_SETTINGS, timeZone: ZONE };
const log = createLogger('error');

/** n events spread over the local day `date` in ZONE. */
function dayEvents(date: string, n: number, variant: string): ClickEvent[] {
  return eventsOfDay(date, n, variant, ZONE);
}

function newLake(): Lake {
  return openLocalFolderLake(mkdtempSync(join(tmpdir(), 'tidemark-lake-')));
}

function steps(db: Database, lake: Lake, settings = SETTINGS) {
  return createDaySteps({ db, lake, settings: { marts: settings }, log, clock: Date.now });
}

const run = (date: string, extra: { dryRun?: boolean; signal?: AbortSignal; onProgress?: (f: number) => void } = {}) => ({
  date,
  dryRun: extra.dryRun ?? false,
  signal: extra.signal ?? new AbortController().signal,
  ...(extra.onProgress === undefined ? {} : { onProgress: extra.onProgress }),
});

async function coldCounts(db: Database): Promise<Record<string, number>> {
  const r = await db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM mart_session_analysis) AS s, (SELECT count(*)::int FROM mart_daily_traffic) AS d,
            (SELECT count(*)::int FROM mart_clinical_areas) AS a, (SELECT count(*)::int FROM mart_popular_documents) AS p,
            (SELECT count(*)::int FROM lake_days) AS l`,
  );
  return r.rows[0] as Record<string, number>;
}

let handles: TestDatabase[] = [];
afterEach(async () => {
  for (const h of handles) await h.dispose();
  handles = [];
});

async function create(factory: ReturnType<typeof testDatabaseFactories>[number]): Promise<TestDatabase> {
  const t = await factory.create();
  handles.push(t);
  return t;
}

const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

describe('a day replaced while a reader polls (PostgreSQL)', () => {
  it.skipIf(pg === undefined)('every observation is wholly the old day or wholly the new one, 20 replaces', async () => {
    const t = await create(pg!);
    const date = '2026-05-04';
    const lakes = [newLake(), newLake()] as const;
    const sets = [dayEvents(date, 6000, 'a'), dayEvents(date, 9000, 'b')] as const;
    await writeArchive(lakes[0], sets[0], ZONE);
    await writeArchive(lakes[1], sets[1], ZONE);
    await setArchiveWatermark(t.db, 'infinity');
    const expected = sets.map((events) => {
      const cold = evaluateColdMarts(events, SETTINGS);
      const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
      return [
        cold.sessionAnalysis.length,
        sum(cold.sessionAnalysis.map((r) => r.clickCount)),
        cold.dailyTraffic.length,
        sum(cold.dailyTraffic.map((r) => r.totalEvents)),
        cold.clinicalAreas.length,
        sum(cold.clinicalAreas.map((r) => r.searchCount)),
        cold.popularDocuments.length,
        sum(cold.popularDocuments.map((r) => r.viewCount)),
      ].join(',');
    });
    const runners = lakes.map((lake) => steps(t.db, lake));
    await runners[0]!.cold(run(date));

    const reader = createPgDatabase(t.url as string, { max: 1 });
    let done = false;
    const seen = new Map<string, number>();
    const poll = (async () => {
      while (!done) {
        // One statement: one snapshot across the four marts.
        const r = await reader.query<{ v: string }>(
          `SELECT concat_ws(',',
             (SELECT count(*) FROM mart_session_analysis WHERE event_date = $1::date), (SELECT coalesce(sum(click_count), 0) FROM mart_session_analysis WHERE event_date = $1::date),
             (SELECT count(*) FROM mart_daily_traffic WHERE event_date = $1::date), (SELECT coalesce(sum(total_events), 0) FROM mart_daily_traffic WHERE event_date = $1::date),
             (SELECT count(*) FROM mart_clinical_areas WHERE event_date = $1::date), (SELECT coalesce(sum(search_count), 0) FROM mart_clinical_areas WHERE event_date = $1::date),
             (SELECT count(*) FROM mart_popular_documents WHERE event_date = $1::date), (SELECT coalesce(sum(view_count), 0) FROM mart_popular_documents WHERE event_date = $1::date)) AS v`,
          [date],
        );
        const v = r.rows[0]?.v as string;
        seen.set(v, (seen.get(v) ?? 0) + 1);
      }
    })();
    try {
      for (let i = 1; i <= 20; i++) await runners[i % 2]!.cold(run(date));
    } finally {
      done = true;
      await poll;
      await reader.close();
    }
    // Only the two complete states were ever observed, and both were (the reader raced the writer).
    expect([...seen.keys()].sort()).toEqual([...expected].sort());
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
  });
});

for (const factory of testDatabaseFactories()) {
  describe(`completeness, cancellation, quality, full refresh, retention — ${factory.label}`, () => {
    it('no step computes a day the archive has not passed; a 23-hour DST day ends at local midnight', async () => {
      const t = await create(factory);
      const date = '2026-03-29'; // Europe/Berlin springs forward: 23 hours.
      const lake = newLake();
      await writeArchive(lake, dayEvents(date, 500, 'a'), ZONE);
      const s = steps(t.db, lake);
      await expect(s.completeness(run(date))).rejects.toThrow(DayStepNotReadyError);
      await expect(s.completeness(run(date))).rejects.toThrow(/no archive watermark/);
      const end = Date.UTC(2026, 2, 29, 22); // 2026-03-30 00:00 CEST
      expect(endOfLocalDay(date, ZONE) - startOfLocalDay(date, ZONE)).toBe(23 * 3_600_000);
      // One millisecond short — 23:59:59.999 local, i.e. 24 h after midnight would still be 1 h off.
      await setArchiveWatermark(t.db, end - 1);
      await expect(s.completeness(run(date))).rejects.toThrow(/has not reached the end of the day 2026-03-29T22:00:00.000Z/);
      await expect(s.cold(run(date))).rejects.toThrow(DayStepNotReadyError);
      await expect(s.reconcile(run(date))).rejects.toThrow(DayStepNotReadyError);
      expect(await coldCounts(t.db)).toEqual({ s: 0, d: 0, a: 0, p: 0, l: 0 });
      const hot = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM mart_realtime_traffic_minute`);
      expect(hot.rows[0]?.n).toBe(0);
      await setArchiveWatermark(t.db, end);
      expect((await s.completeness(run(date))).summary).toMatchObject({ day_hours: 23, day_end: '2026-03-29T22:00:00.000Z' });
      await s.cold(run(date));
      expect(await readColdRows(t.db)).toEqual(evaluateColdMarts(dayEvents(date, 500, 'a'), SETTINGS));
      // Reconcile also waits for the stream: hot rows of D are provisional until its watermark passes D.
      await t.db.query(`INSERT INTO stream_consumers (consumer, watermark_ts) VALUES ('tidemark-stream', $1::timestamptz)`, [new Date(end - 60_000).toISOString()]);
      await expect(s.reconcile(run(date))).rejects.toThrow(/not final yet: stream watermark\(s\) tidemark-stream at 2026-03-29T21:59:00.000Z/);
      await t.db.query(`UPDATE stream_consumers SET watermark_ts = $1::timestamptz`, [new Date(end).toISOString()]);
      expect((await s.reconcile(run(date))).summary).toMatchObject({ events_read: 500, 'mart_realtime_traffic_minute.added': 500 });
    });

    it('a cancel in the middle of the cold step leaves the day wholly old; a dry run writes nothing', async () => {
      const t = await create(factory);
      const date = '2026-06-10';
      const oldLake = newLake();
      const newLakeWithMore = newLake();
      await writeArchive(oldLake, dayEvents(date, 800, 'old'), ZONE);
      await writeArchive(newLakeWithMore, dayEvents(date, 3000, 'new'), ZONE, { objectSize: 300, rowGroupSize: 100 });
      await setArchiveWatermark(t.db, 'infinity');
      await steps(t.db, oldLake).cold(run(date));
      const before = await readColdRows(t.db);
      const cancel = new AbortController();
      let progressCalls = 0;
      await expect(
        steps(t.db, newLakeWithMore).cold(run(date, { signal: cancel.signal, onProgress: () => (++progressCalls === 3 ? cancel.abort() : undefined) })),
      ).rejects.toThrow(DayStepCancelledError);
      expect(progressCalls).toBe(3);
      expect(await readColdRows(t.db)).toEqual(before);
      const dry = await steps(t.db, newLakeWithMore).cold(run(date, { dryRun: true }));
      expect(dry.summary).toMatchObject({ dry_run: true, events: 3000, duplicates_removed: 0, mart_daily_traffic: 1 });
      expect(await readColdRows(t.db)).toEqual(before);
    });

    it('quality: row counts against the previous 7 days warn; a broken invariant fails the step after writing', async () => {
      const t = await create(factory);
      const lake = newLake();
      const first = '2026-09-01';
      const days = Array.from({ length: 8 }, (_, i) => addDays(first, i));
      // Seven days of 300 events in 97 sessions, then a day of 900 events in twice the sessions.
      const events = days.flatMap((d, i) => (i < 7 ? dayEvents(d, 300, 'q') : [...dayEvents(d, 300, 'q'), ...dayEvents(d, 600, 'r')]));
      await writeArchive(lake, events, ZONE);
      await setArchiveWatermark(t.db, 'infinity');
      const s = steps(t.db, lake);
      for (const d of days) {
        await s.cold(run(d));
        await s.reconcile(run(d));
      }
      const last = days[7] as string;
      const result = await s.quality(run(last));
      expect(result.summary).toMatchObject({ failed: 0 });
      const rows = await t.db.query<{ mart: string; status: string; observed: string; expected: string }>(
        `SELECT mart, status, observed, expected FROM quality_results WHERE check_name = 'row_count_change' AND event_date = $1::date ORDER BY mart`,
        [last],
      );
      const byMart = new Map(rows.rows.map((r) => [r.mart, r]));
      // 97 sessions a day before, 194 on the last day: +100 % is past the 50 % threshold.
      expect(byMart.get('mart_session_analysis')).toEqual({ mart: 'mart_session_analysis', status: 'warn', observed: '194', expected: '97' });
      expect(byMart.get('mart_daily_traffic')).toEqual({ mart: 'mart_daily_traffic', status: 'pass', observed: '1', expected: '1' });
      // The day's first one-click minute goes missing: Σ per-minute total_clicks ≠ total_events.
      const removed = await t.db.query(
        `DELETE FROM mart_realtime_traffic_minute WHERE event_minute = (SELECT min(event_minute) FROM mart_realtime_traffic_minute
          WHERE event_minute >= $1::timestamptz AND event_minute < $2::timestamptz AND total_clicks = 1)`,
        [new Date(startOfLocalDay(last, ZONE)).toISOString(), new Date(endOfLocalDay(last, ZONE)).toISOString()],
      );
      expect(removed.rowCount).toBe(1);
      await expect(s.quality(run(last))).rejects.toThrow(QualityCheckFailedError);
      const failed = await t.db.query<{ check_name: string; mart: string; observed: string; expected: string }>(
        `SELECT check_name, mart, observed, expected FROM quality_results WHERE status = 'fail'`,
      );
      expect(failed.rows).toEqual([{ check_name: 'events_match_daily_total', mart: 'mart_realtime_traffic_minute', observed: '899', expected: '900' }]);
    });

    it('full refresh recomputes every complete date and drops the rest; dry run first', async () => {
      const t = await create(factory);
      const lake = newLake();
      const events = [...dayEvents('2026-07-01', 400, 'x'), ...dayEvents('2026-07-02', 300, 'y'), ...dayEvents('2026-07-03', 200, 'z')];
      // Duplicates at other offsets: the refresh dedups like the daily step.
      await writeArchive(lake, [...events, ...events.slice(0, 50)], ZONE);
      // 07-03 is not complete: left out; 06-30 has stale rows and no archive: dropped.
      await setArchiveWatermark(t.db, endOfLocalDay('2026-07-02', ZONE));
      await t.db.query(`INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2026-06-30', 5, 1, 1, 3), ('2026-07-01', 9, 1, 1, 3)`);
      const deps = { db: t.db, lake, settings: { marts: SETTINGS }, log, clock: Date.now };
      const expectedRows = evaluateColdMarts(events.filter((e) => e.eventTs < endOfLocalDay('2026-07-02', ZONE)), SETTINGS);
      const counts = {
        mart_session_analysis: expectedRows.sessionAnalysis.length,
        mart_daily_traffic: 2,
        mart_clinical_areas: expectedRows.clinicalAreas.length,
        mart_popular_documents: expectedRows.popularDocuments.length,
      };
      const dry = await fullRefresh(deps, { dryRun: true, signal: new AbortController().signal });
      expect(dry).toEqual({ dates: ['2026-07-01', '2026-07-02'], incompleteDates: ['2026-07-03'], rows: counts, events: 700, duplicates: 50 });
      expect(await coldCounts(t.db)).toEqual({ s: 0, d: 2, a: 0, p: 0, l: 0 });
      const real = await fullRefresh(deps, { dryRun: false, signal: new AbortController().signal });
      expect(real.rows).toEqual(counts);
      expect(await readColdRows(t.db)).toEqual(expectedRows);
      const staged = await t.db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM cold_refresh_session_analysis) + (SELECT count(*) FROM cold_refresh_daily_traffic)
              + (SELECT count(*) FROM cold_refresh_clinical_areas) + (SELECT count(*) FROM cold_refresh_popular_documents) AS n`,
      );
      expect(Number(staged.rows[0]?.n)).toBe(0);
      const days = await t.db.query<{ d: string }>(`SELECT event_date::text AS d FROM lake_days WHERE cold_computed_at IS NOT NULL ORDER BY 1`);
      expect(days.rows.map((r) => r.d)).toEqual(['2026-07-01', '2026-07-02']);
      // The rollups followed the sessions' swap: the stale day has none, the recomputed ones do.
      const rollups = await t.db.query<{ d: string; n: number }>(`SELECT event_date::text AS d, sessions AS n FROM mart_session_percentiles WHERE measure = 'clicks' ORDER BY 1`);
      const perDay = (d: string): number => expectedRows.sessionAnalysis.filter((r) => r.eventDate === d).length;
      expect(rollups.rows).toEqual(['2026-07-01', '2026-07-02'].map((d) => ({ d, n: perDay(d) })));
    });

    it('retention deletes exactly the rows past their horizon, in batches; dry run counts them', async () => {
      const t = await create(factory);
      const now = Date.UTC(2026, 9, 20, 12);
      const expected = await seedAgedRows(t.db, now);
      const deps = { db: t.db, clock: () => now, log };
      expect(await runRetention(deps, { hotRetentionDays: 7, dryRun: true })).toEqual(expected);
      expect(await runRetention(deps, { hotRetentionDays: 7, dryRun: false, batchSize: 2 })).toEqual(expected);
      expect(await runRetention(deps, { hotRetentionDays: 7, dryRun: true })).toEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, 0])));
      expect(await agedRowCounts(t.db)).toBe('2/2/2/2/2/2/4');
    });
  });
}

describe('`tidemark reconcile` (PostgreSQL)', () => {
  it.skipIf(pg === undefined)('runs the four steps, prints the table, exits 75 when the archive is behind and 0 when done', async () => {
    const t = await create(pg!);
    const date = '2026-08-05';
    const root = mkdtempSync(join(tmpdir(), 'tidemark-lake-'));
    const events = dayEvents(date, 1200, 'cli');
    await writeArchive(openLocalFolderLake(root), events, ZONE);
    const env = { DATABASE_URL: t.url as string, LAKE_URL: `file://${root}`, MART_TIMEZONE: ZONE, LOG_LEVEL: 'error' };
    await setArchiveWatermark(t.db, startOfLocalDay(date, ZONE) + 3_600_000);
    const behind = await runCli(['reconcile', '--date', date], env);
    expect(behind.code).toBe(75);
    expect(behind.stdout).toMatch(/completeness\s+not ready/);
    expect(behind.stdout).toMatch(/cold\s+skipped/);
    await setArchiveWatermark(t.db, 'infinity');
    const dry = await runCli(['reconcile', '--date', date, '--dry-run'], env);
    expect(dry.stdout).toContain('dry run: nothing written');
    expect(dry.code).toBe(0);
    expect(await coldCounts(t.db)).toMatchObject({ d: 0 });
    const done = await runCli(['reconcile', '--date', date], env);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/cold\s+succeeded\s+[\d.]+\s+events_read=1200 duplicates_removed=0 events=1200/);
    expect(done.stdout).toMatch(/quality\s+succeeded/);
    expect(await readColdRows(t.db)).toEqual(evaluateColdMarts(events, SETTINGS));
    const reports = await t.db.query<{ mart: string; added: number }>(`SELECT mart, rows_added AS added FROM reconcile_reports ORDER BY mart`);
    expect(reports.rows.find((r) => r.mart === 'mart_realtime_traffic_minute')?.added).toBe(new Set(events.map((e) => Math.floor(e.eventTs / 60_000))).size);
    const audit = await t.db.query<{ job: string; outcome: string; range_from: string; steps: number }>(
      `SELECT job, outcome, range_from::text, jsonb_array_length(detail->'steps') AS steps FROM job_runs ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      { job: 'reconcile', outcome: 'failed', range_from: date, steps: 4 },
      { job: 'reconcile', outcome: 'succeeded', range_from: date, steps: 4 },
      { job: 'reconcile', outcome: 'succeeded', range_from: date, steps: 4 },
    ]);
    const bad = await runCli(['reconcile', '--date', '2026-02-30'], env);
    expect(bad.code).toBe(64);
  });
});
