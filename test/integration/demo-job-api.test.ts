// The demo's composition of the job layer, on each test database: the in-process scheduler
// component (real day steps over a local-folder lake the archive writer filled) behind the
// operator surface's HTTP API. POST /api/backfill and /api/reconcile need the token, start real
// runs audited in job_runs, and the runs complete: cold marts and reconcile reports appear.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { TidemarkConfig } from '../../src/config.ts';
import { runArchive } from '../../src/io/archive/archive-writer.ts';
import { createGeneratorSource } from '../../src/io/generator/generator-source.ts';
import { openLake } from '../../src/io/lake/open-lake.ts';
import { createLogger } from '../../src/io/log.ts';
import { Registry, operatorMetrics } from '../../src/io/metrics.ts';
import { runComponents } from '../../src/cli/app/components.ts';
import { schedulerJobs } from '../../src/cli/app/scheduler-jobs.ts';
import type { SchedulerJobs } from '../../src/cli/app/scheduler-jobs.ts';
import { jobControlFor } from '../../src/cli/app/job-control.ts';
import { operatorSurface } from '../../src/cli/app/operator-surface.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const TOKEN = 'demo-job-api-token-0123';
const DATE = '2026-01-09';
const EVENTS = 1200;
const log = createLogger('error');

for (const factory of testDatabaseFactories()) {
  describe(`job triggers of the demo on ${factory.label}`, () => {
    const home = mkdtempSync(join(tmpdir(), 'tidemark-demo-jobs-'));
    let t: TestDatabase;
    let config: TidemarkConfig;
    let jobs: SchedulerJobs;
    const stop = new AbortController();
    let running: Promise<void>;
    let url = '';

    beforeAll(async () => {
      t = await factory.create();
      config = loadConfig(
        { TIDEMARK_HOME: home, LAKE_URL: `file://${join(home, 'lake')}`, PORT: '0', TIDEMARK_API_TOKEN: TOKEN, JOB_CONCURRENCY: '2', LOG_LEVEL: 'error' },
        { cwd: home },
      );
      // The lake as the demo's archive writer fills it: 1200 clean events of DATE, 10:00–10:20 UTC,
      // from a bounded generator (so the archive watermark ends at +∞ and the day is complete).
      const lake = openLake(config.lake, config.s3);
      const archived = await runArchive({
        db: t.db,
        lake,
        source: createGeneratorSource('api-test', EVENTS, { startMs: Date.parse(`${DATE}T10:00:00Z`), eventsPerSecond: 1, seed: 7, anomalyEvery: 0 }),
        consumer: 'test-archive',
        settings: {
          timeZone: 'UTC',
          watermarkDelayMs: 600_000,
          maxFutureSkewMs: 300_000,
          idlePartitionTimeoutMs: 60_000,
          limits: { maxRows: 100_000, maxBytes: 64 * 1024 ** 2, maxAgeMs: 60_000 },
        },
        log,
      });
      await lake.close();
      expect(archived.archived).toBe(EVENTS);

      // No start-up run here: yesterday (by the wall clock) has no data in this lake.
      jobs = await schedulerJobs({ config, db: t.db, log, readyForStartupRun: async () => false, pollMs: 50 });
      const registry = new Registry();
      let listening!: (port: number) => void;
      const port = new Promise<number>((resolve) => (listening = resolve));
      running = runComponents(
        [
          ...operatorSurface({ config, db: t.db, registry, metrics: operatorMetrics(registry), log, jobs: jobControlFor(jobs.service), onListening: (p) => listening(p) }),
          jobs.component,
        ],
        stop.signal,
        log,
      );
      url = `http://127.0.0.1:${await port}`;
    });

    afterAll(async () => {
      stop.abort();
      await running;
      await t?.dispose();
      rmSync(home, { recursive: true, force: true });
    });

    const post = async (path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const auditOf = async (runId: string): Promise<string[]> => {
      const { rows } = await t.db.query<{ line: string }>(
        `SELECT concat_ws('|', job, coalesce(step, '-'), range_from::text, range_to::text, requested_by, outcome) AS line
           FROM job_runs WHERE run_id = $1 ORDER BY id`,
        [runId],
      );
      return rows.map((r) => r.line);
    };

    it('refuses the triggers without the right token', async () => {
      expect(await post('/api/backfill', { from: DATE, to: DATE })).toEqual({ status: 401, body: { error: 'a bearer token is required' } });
      expect(await post('/api/reconcile', { date: DATE }, 'not-the-token-at-all')).toEqual({ status: 401, body: { error: 'the bearer token is wrong' } });
      const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_runs`);
      expect(rows[0]!.n).toBe(0);
    });

    it('answers 400 for what the job layer refuses', async () => {
      expect(await post('/api/backfill', { from: DATE, to: DATE, marts: ['mart_nope'] }, TOKEN)).toEqual({
        status: 400,
        body: { error: 'unknown cold mart(s) mart_nope; expected some of mart_session_analysis, mart_daily_traffic, mart_clinical_areas, mart_popular_documents' },
      });
      expect(await post('/api/backfill', { from: '2000-01-01', to: '2026-01-01' }, TOKEN)).toEqual({ status: 400, body: { error: 'the range holds more than 3660 days' } });
    });

    it('starts a backfill that runs to completion and is audited', async () => {
      const answer = await post('/api/backfill', { from: DATE, to: DATE, marts: ['mart_daily_traffic'] }, TOKEN);
      expect(answer.status).toBe(202);
      const runId = String(answer.body['runId']);
      expect(runId).toMatch(/^backfill-[0-9a-f-]{36}$/);
      expect((await jobs.service.waitForRun(runId, { pollMs: 100 })).run.outcome).toBe('succeeded');
      expect(await auditOf(runId)).toEqual([
        `backfill|-|${DATE}|${DATE}|api|succeeded`,
        `backfill|completeness|${DATE}|${DATE}|api|succeeded`,
        `backfill|cold|${DATE}|${DATE}|api|succeeded`,
        `backfill|reconcile|${DATE}|${DATE}|api|succeeded`,
        `backfill|quality|${DATE}|${DATE}|api|succeeded`,
      ]);
      const { rows } = await t.db.query<{ total_events: number }>(`SELECT total_events FROM mart_daily_traffic WHERE event_date = $1`, [DATE]);
      expect(rows).toEqual([{ total_events: EVENTS }]);
    });

    it('starts a reconcile of one date: the whole flow, with reconcile reports per hot mart', async () => {
      const answer = await post('/api/reconcile', { date: DATE }, TOKEN);
      expect(answer.status).toBe(202);
      const runId = String(answer.body['runId']);
      expect((await jobs.service.waitForRun(runId, { pollMs: 100 })).run.outcome).toBe('succeeded');
      expect((await auditOf(runId)).map((line) => line.split('|').slice(1).join('|'))).toEqual([
        `-|${DATE}|${DATE}|api|succeeded`,
        `completeness|${DATE}|${DATE}|api|succeeded`,
        `cold|${DATE}|${DATE}|api|succeeded`,
        `reconcile|${DATE}|${DATE}|api|succeeded`,
        `quality|${DATE}|${DATE}|api|succeeded`,
      ]);
      // Two runs (the backfill above and this one), each reporting the four hot marts; the
      // second finds nothing to change: the first already wrote the exact rows.
      const { rows } = await t.db.query<{ mart: string; reports: number; changed: number; added: number }>(
        `SELECT mart, count(*)::int AS reports, max(rows_changed) FILTER (WHERE created_at = (SELECT max(created_at) FROM reconcile_reports))::int AS changed,
                max(rows_added) FILTER (WHERE created_at = (SELECT max(created_at) FROM reconcile_reports))::int AS added
           FROM reconcile_reports WHERE event_date = $1 GROUP BY mart ORDER BY mart`,
        [DATE],
      );
      expect(rows).toEqual([
        { mart: 'mart_realtime_anomaly_sessions', reports: 2, changed: 0, added: 0 },
        { mart: 'mart_realtime_clinical_trend_24h', reports: 2, changed: 0, added: 0 },
        { mart: 'mart_realtime_top_docs_1h', reports: 2, changed: 0, added: 0 },
        { mart: 'mart_realtime_traffic_minute', reports: 2, changed: 0, added: 0 },
      ]);
    });
  });
}

describe('the demo scheduler at start-up', () => {
  const pglite = testDatabaseFactories().find((factory) => factory.kind === 'pglite')!;
  const home = mkdtempSync(join(tmpdir(), 'tidemark-demo-startup-'));
  let t: TestDatabase;

  afterAll(async () => {
    await t?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  /** Runs the scheduler component until `until` resolves, then stops it; resolves once it has stopped. */
  async function runScheduler(jobs: SchedulerJobs, until: () => Promise<void>): Promise<void> {
    const stop = new AbortController();
    let up!: () => void;
    const started = new Promise<void>((resolve) => (up = resolve));
    const running = jobs.component.run(stop.signal, up);
    await started;
    await until();
    stop.abort();
    await running;
  }

  it('runs the daily flow for yesterday once, and not again at the next start', async () => {
    t = await pglite.create();
    const config = loadConfig({ TIDEMARK_HOME: home, LAKE_URL: `file://${join(home, 'lake')}`, LOG_LEVEL: 'error' }, { cwd: home });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const lake = openLake(config.lake, config.s3);
    await runArchive({
      db: t.db,
      lake,
      source: createGeneratorSource('startup-test', 600, { startMs: Date.parse(`${yesterday}T10:00:00Z`), eventsPerSecond: 1, seed: 3, anomalyEvery: 0 }),
      consumer: 'test-archive',
      settings: { timeZone: 'UTC', watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000, limits: { maxRows: 100_000, maxBytes: 64 * 1024 ** 2, maxAgeMs: 60_000 } },
      log,
    });
    await lake.close();

    const runId = `daily-${yesterday}`;
    const first = await schedulerJobs({ config, db: t.db, log, pollMs: 50 });
    await runScheduler(first, async () => {
      while ((await first.service.getRun(runId)) === null) await new Promise((r) => setTimeout(r, 50));
      expect((await first.service.waitForRun(runId, { pollMs: 100 })).run.outcome).toBe('succeeded');
    });
    const audit = async (): Promise<string[]> =>
      (
        await t.db.query<{ line: string }>(
          `SELECT concat_ws('|', job, coalesce(step, '-'), range_from::text, requested_by, outcome) AS line FROM job_runs ORDER BY id`,
        )
      ).rows.map((r) => r.line);
    const afterFirst = await audit();
    expect(afterFirst).toEqual([
      `daily|-|${yesterday}|demo start-up|succeeded`,
      `daily|completeness|${yesterday}|demo start-up|succeeded`,
      `daily|cold|${yesterday}|demo start-up|succeeded`,
      `daily|reconcile|${yesterday}|demo start-up|succeeded`,
      `daily|quality|${yesterday}|demo start-up|succeeded`,
    ]);
    const { rows } = await t.db.query<{ total_events: number }>(`SELECT total_events FROM mart_daily_traffic WHERE event_date = $1`, [yesterday]);
    expect(rows).toEqual([{ total_events: 600 }]);

    // A restart finds the run done: it neither waits for readiness nor starts anything.
    let asked = 0;
    const second = await schedulerJobs({ config, db: t.db, log, pollMs: 50, readyForStartupRun: async () => (asked++, true) });
    await runScheduler(second, async () => {});
    expect(asked).toBe(0);
    expect(await audit()).toEqual(afterFirst);
  });
});
