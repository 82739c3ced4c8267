// Acceptance: the mart suite through the cold path. Its valid events (late ones and duplicates
// included) archived in the lake by the codec → the cold step for every date gives exactly the
// reference evaluator's cold marts; after a stream replay of the suite (on-time events only),
// reconcile of every date gives exactly the hot marts of ALL valid events, reconcile_reports
// counts exactly the rows that differ between the two, and every quality check passes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { createLogger } from '../../src/io/log.ts';
import { createDaySteps } from '../../src/jobs/day-steps/create-day-steps.ts';
import { HOT_MARTS } from '../../src/marts/mart-registry.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { localDate } from '../../src/marts/time-zone.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { setArchiveWatermark } from '../support/cold-path-fixtures.ts';
import { writeArchive } from '../support/lake-archive.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';
import { runCli } from '../support/run-cli.ts';
import { archivedSuiteEvents, expectQualityPassed, expectedReports, hotKeyDays, lateSuiteEvents, readReports } from '../support/suite-cold-path.ts';

const suite = buildMartSuite();
const zone = suite.settings.timeZone;
// Row-count-change warnings are expected here (the suite's days differ a lot): keep them quiet.
const log = createLogger('error');

const archived = archivedSuiteEvents(suite);
const eventDates = [...new Set(archived.map((e) => localDate(e.eventTs, zone)))].sort();
const expectedCold = evaluateColdMarts(suite.expected.allValidEvents, suite.settings);

function runOptions(date: string): { date: string; dryRun: boolean; signal: AbortSignal } {
  return { date, dryRun: false, signal: new AbortController().signal };
}

describe('cold step over the mart suite', () => {
  for (const factory of testDatabaseFactories()) {
    describe(factory.label, () => {
      let t: TestDatabase | undefined;
      afterAll(async () => t?.dispose());
      it('the four cold marts equal the reference evaluator row for row; a second run changes nothing', async () => {
        t = await factory.create();
        const lake = openLocalFolderLake(mkdtempSync(join(tmpdir(), 'tidemark-lake-')));
        const keys = await writeArchive(lake, archived, zone);
        expect(keys.length).toBeGreaterThan(eventDates.length * 3);
        await setArchiveWatermark(t.db, 'infinity');
        const steps = createDaySteps({ db: t.db, lake, settings: { marts: suite.settings }, log, clock: Date.now });
        let read = 0;
        let duplicates = 0;
        for (const date of eventDates) {
          const { summary } = await steps.cold(runOptions(date));
          read += summary['events_read'] as number;
          duplicates += summary['duplicates_removed'] as number;
        }
        expect(read).toBe(archived.length);
        expect(read - duplicates).toBe(suite.expected.allValidEvents.length);
        expect(await readColdRows(t.db)).toEqual(expectedCold);
        const days = await t.db.query<{ d: string; dirty: unknown; done: boolean }>(
          `SELECT event_date::text AS d, dirty_since AS dirty, cold_computed_at IS NOT NULL AS done FROM lake_days ORDER BY event_date`,
        );
        expect(days.rows).toEqual(eventDates.map((d) => ({ d, dirty: null, done: true })));
        for (const date of eventDates) await steps.cold(runOptions(date));
        expect(await readColdRows(t.db)).toEqual(expectedCold);
        // The dashboards' rollups were written with each day: one percentile row per measure and day.
        const rollups = await t.db.query<{ d: string; n: number }>(
          `SELECT event_date::text AS d, sum(sessions)::int AS n FROM mart_session_percentiles WHERE measure = 'clicks' GROUP BY 1 ORDER BY 1`,
        );
        const perDay = new Map<string, number>();
        for (const r of expectedCold.sessionAnalysis) perDay.set(r.eventDate, (perDay.get(r.eventDate) ?? 0) + 1);
        expect(rollups.rows).toEqual([...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([d, n]) => ({ d, n })));
      });
    });
  }
});

describe('reconcile and quality over the mart suite (PostgreSQL, stream replay)', () => {
  const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
  if (pg === undefined) return;
  let t: TestDatabase | undefined;
  let suiteFile = '';
  beforeAll(() => {
    suiteFile = join(mkdtempSync(join(tmpdir(), 'tidemark-suite-')), 'mart-suite.jsonl');
    writeFileSync(suiteFile, `${suite.lines.join('\n')}\n`);
  });
  afterAll(async () => t?.dispose());

  it('hot marts become those of every valid event; reports and quality results are exact', async () => {
    t = await pg.create();
    const db = t.db;
    const replay = await runCli(['replay', suiteFile], {
      DATABASE_URL: t.url ?? '',
      MART_TIMEZONE: zone,
      WATERMARK_DELAY: `${suite.watermarkDelayMs}ms`,
      MAX_FUTURE_SKEW: `${suite.maxFutureSkewMs}ms`,
      STREAM_BATCH_MAX_MESSAGES: '1000',
      LOG_LEVEL: 'error',
    });
    expect(replay.code).toBe(0);
    const streamed = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings);
    expect(await readHotMarts(db)).toEqual(streamed);

    const lake = openLocalFolderLake(mkdtempSync(join(tmpdir(), 'tidemark-lake-')));
    await writeArchive(lake, archived, zone, { partitions: 2, objectSize: 900 });
    await setArchiveWatermark(db, 'infinity');
    const steps = createDaySteps({ db, lake, settings: { marts: suite.settings }, log, clock: Date.now });

    const exact = evaluateHotMarts(suite.expected.allValidEvents, suite.settings);
    // Every local day holding a hot-mart key: trend snapshots run 48 h past the last event.
    const days = hotKeyDays([exact, streamed], zone);
    expect(days.length).toBeGreaterThanOrEqual(4);

    for (const date of days) {
      // cold first: quality compares the hot per-minute sums with the cold totals.
      await steps.completeness(runOptions(date));
      await steps.cold(runOptions(date));
      await steps.reconcile(runOptions(date));
      await steps.quality(runOptions(date));
    }
    const after = await readHotMarts(db);
    expect(after.traffic).toEqual(exact.traffic);
    expect(after.anomalies).toEqual(exact.anomalies);
    expect(after.clinicalTrend).toEqual(exact.clinicalTrend);
    expect(after.topDocs).toEqual(exact.topDocs);
    const notFinal = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM mart_realtime_traffic_minute WHERE NOT is_final) + (SELECT count(*) FROM mart_realtime_top_docs_1h WHERE NOT is_final)
            + (SELECT count(*) FROM mart_realtime_clinical_trend_24h WHERE NOT is_final) + (SELECT count(*) FROM mart_realtime_anomaly_sessions WHERE NOT is_final) AS n`,
    );
    expect(Number(notFinal.rows[0]?.n)).toBe(0);

    // reconcile_reports: per (mart, day), exactly the difference between on-time and all events.
    const lateEvents = lateSuiteEvents(suite);
    const reports = expectedReports(streamed, exact, days, zone, lateEvents.values());
    expect(await readReports(db)).toEqual(reports);
    // The late events really moved the marts: otherwise the comparison above would prove little.
    const trafficReports = reports.filter((r) => r.mart === HOT_MARTS.traffic.table);
    expect(trafficReports.reduce((n, r) => n + r.changed + r.added, 0)).toBeGreaterThan(0);
    expect(trafficReports.reduce((n, r) => n + r.late, 0)).toBe(lateEvents.size);

    // Quality: every error-level check passed on every day, the Σ invariants among them.
    await expectQualityPassed(db, days, expectedCold);
    const freshness = await db.query<{ observed: string }>(`SELECT observed FROM quality_results WHERE check_name = 'archive_freshness'`);
    expect(freshness.rows.map((r) => r.observed)).toEqual(days.map(() => 'infinity'));
  });
});
