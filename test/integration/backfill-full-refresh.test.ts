// `tidemark backfill --full-refresh` as users run it (in-process queue, PostgreSQL, a local lake):
// a dry run reports what the refresh would write and changes nothing; the real run swaps the
// whole cold tables — rows of a date no longer in the lake disappear, stale rows of a date in
// the lake are recomputed — then runs completeness, reconcile and quality for every date of
// the range (no per-day cold: the refresh did it), all audited in job_runs. Without --from/--to
// the range ends at the last day the archive has completed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay } from '../../src/marts/time-zone.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import { dayEvents, setArchiveWatermark } from '../support/cold-path-fixtures.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { writeArchive } from '../support/lake-archive.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';
import { runCli } from '../support/run-cli.ts';
import { expectQualityPassed, hotOnDays } from '../support/suite-cold-path.ts';

const ZONE = 'Europe/Berlin';
const SETTINGS = { ...DEFAULT_MART_SETTINGS, timeZone: ZONE };
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

describe.runIf(pg !== undefined)('`tidemark backfill --full-refresh` (PostgreSQL, in-process)', () => {
  let t: TestDatabase | undefined;
  afterAll(async () => t?.dispose());

  it('dry run changes nothing; the real run swaps whole cold tables, then reconciles and checks every date', { timeout: 120_000 }, async () => {
    t = await pg!.create();
    const db = t.db;
    const root = mkdtempSync(join(tmpdir(), 'tidemark-lake-'));
    const events = [...dayEvents('2026-07-01', 400, 'x', ZONE), ...dayEvents('2026-07-02', 300, 'y', ZONE)];
    // 50 copies at other offsets: the refresh dedups by event_id like the daily step.
    await writeArchive(openLocalFolderLake(root), [...events, ...events.slice(0, 50)], ZONE);
    await setArchiveWatermark(db, endOfLocalDay('2026-07-02', ZONE));
    // 2026-06-30 is no longer in the lake; 2026-07-01 has stale rows.
    await db.query(
      `INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2026-06-30', 5, 1, 1, 3), ('2026-07-01', 9, 1, 1, 3)`,
    );
    await db.query(`INSERT INTO mart_clinical_areas (event_date, clinical_area, search_count, unique_sessions) VALUES ('2026-06-30', 'cardiology', 5, 1), ('2026-07-01', 'gone', 9, 1)`);
    await db.query(`INSERT INTO mart_popular_documents (event_date, document_id, title, view_count, unique_sessions) VALUES ('2026-06-30', 1, 'old', 5, 1)`);
    await db.query(
      `INSERT INTO mart_session_analysis (session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts)
       VALUES ('old', '2026-06-30', 5, 1, '2026-06-30T08:00:00Z', '2026-06-30T08:00:10Z')`,
    );
    const stale = await readColdRows(db);
    const env = { DATABASE_URL: t.url!, LAKE_URL: `file://${root}`, MART_TIMEZONE: ZONE, LOG_LEVEL: 'error' };
    const range = ['--from', '2026-06-30', '--to', '2026-07-02', '--who', 'tester'];

    // Dry run of the refresh alone: it reports the rows it would write, and writes none.
    const dry = await runCli(['backfill', '--full-refresh', '--dry-run', '--steps', 'cold', ...range], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^run backfill-\S+: full refresh of the cold marts \(in-process\)\n/);
    expect(await readColdRows(db)).toEqual(stale);
    const expectedCold = evaluateColdMarts(events, SETTINGS);
    const dryAudit = await db.query<{ detail: Record<string, unknown>; outcome: string }>(`SELECT detail, outcome FROM job_runs WHERE step = 'full-refresh'`);
    expect(dryAudit.rows).toHaveLength(1);
    expect(dryAudit.rows[0]).toMatchObject({
      outcome: 'succeeded',
      detail: {
        dry_run: true,
        dates: 2,
        first_date: '2026-07-01',
        last_date: '2026-07-02',
        incomplete_dates: '',
        events: 700,
        duplicates_removed: 50,
        mart_daily_traffic: 2,
        mart_session_analysis: expectedCold.sessionAnalysis.length,
        mart_clinical_areas: expectedCold.clinicalAreas.length,
        mart_popular_documents: expectedCold.popularDocuments.length,
      },
    });

    const real = await runCli(['backfill', '--full-refresh', ...range], env);
    expect(real.code, `${real.stdout}\n${real.stderr}`).toBe(0);
    const runId = /^run (backfill-\S+): full refresh of the cold marts, then 3 days × completeness,reconcile,quality \(in-process\)\n/.exec(real.stdout)?.[1];
    expect(runId).toBeDefined();
    expect(real.stdout).toMatch(/\n2026-06-30\.\.2026-07-02 +full-refresh +succeeded +1 /);

    // The whole tables were swapped: 2026-06-30 is gone, 2026-07-01 is recomputed.
    expect(await readColdRows(db)).toEqual(expectedCold);
    // Reconcile ran after the swap for every date of the range (no stream: the lake's rows only).
    const days = ['2026-06-30', '2026-07-01', '2026-07-02'];
    expect(await readHotMarts(db)).toEqual(hotOnDays(evaluateHotMarts(events, SETTINGS), days, ZONE));
    await expectQualityPassed(db, days, expectedCold);

    const steps = await db.query<{ step: string; from: string; to: string; outcome: string }>(
      `SELECT step, range_from::text AS from, range_to::text AS to, outcome FROM job_runs WHERE run_id = $1 AND step IS NOT NULL ORDER BY range_from, step`,
      [runId],
    );
    expect(steps.rows).toEqual([
      { step: 'completeness', from: '2026-06-30', to: '2026-06-30', outcome: 'succeeded' },
      { step: 'full-refresh', from: '2026-06-30', to: '2026-07-02', outcome: 'succeeded' },
      { step: 'quality', from: '2026-06-30', to: '2026-06-30', outcome: 'succeeded' },
      { step: 'reconcile', from: '2026-06-30', to: '2026-06-30', outcome: 'succeeded' },
      ...['2026-07-01', '2026-07-02'].flatMap((d) => ['completeness', 'quality', 'reconcile'].map((step) => ({ step, from: d, to: d, outcome: 'succeeded' }))),
    ]);
    const run = await db.query<{ outcome: string; full: boolean }>(`SELECT outcome, (detail ->> 'full_refresh')::boolean AS full FROM job_runs WHERE run_id = $1 AND step IS NULL`, [runId]);
    expect(run.rows).toEqual([{ outcome: 'succeeded', full: true }]);
    // The refresh ran before every per-day step.
    const order = await db.query<{ first: string }>(`SELECT step AS first FROM job_runs WHERE run_id = $1 AND step IS NOT NULL ORDER BY started_at, id LIMIT 1`, [runId]);
    expect(order.rows).toEqual([{ first: 'full-refresh' }]);

    // Without --from/--to the range runs from the lake's first date to the last day the archive
    // watermark has passed (2026-07-02 here), not to yesterday: later days could only wait.
    const defaults = await runCli(['backfill', '--full-refresh', '--dry-run', '--steps', 'cold'], env);
    expect(defaults.code, defaults.stderr).toBe(0);
    const defaultRun = /^run (backfill-\S+):/.exec(defaults.stdout)?.[1];
    const defaultRange = await db.query<{ from: string; to: string }>(`SELECT range_from::text AS from, range_to::text AS to FROM job_runs WHERE run_id = $1 AND step IS NULL`, [defaultRun]);
    expect(defaultRange.rows).toEqual([{ from: '2026-07-01', to: '2026-07-02' }]);
  });
});
