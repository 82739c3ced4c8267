// The daily flow and backfills on both queue adapters against PostgreSQL, with small real day
// steps (test/support/fixture-day-steps.ts): idempotent re-runs, cancellation that leaves each
// day wholly old or wholly new, the exact job_runs audit, and the daily run's dates and ids.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createLogger } from '../../src/io/log.ts';
import { createBullmqQueue } from '../../src/io/queue/bullmq-queue.ts';
import { createInProcessQueue } from '../../src/io/queue/in-process-queue.ts';
import type { QueuePort, RetryPolicy, WorkerHandle } from '../../src/io/queue/queue-port.ts';
import { createJobService } from '../../src/jobs/job-service.ts';
import type { JobService } from '../../src/jobs/job-service.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { FIXTURE_TABLES_SQL, fixtureControl, fixtureDaySteps, fixtureFullRefresh } from '../support/fixture-day-steps.ts';
import type { FixtureControl } from '../support/fixture-day-steps.ts';
import { waitUntil } from '../support/queue-conformance.ts';
import { testRedisUrl } from '../support/redis.ts';

const RETRY: RetryPolicy = { failureAttempts: 3, failureBackoffMs: 100, notReadyAttempts: 6, notReadyBackoffMs: 100, maxBackoffMs: 400 };
const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set: these tests need a PostgreSQL server');

const adapters: { label: string; create: () => QueuePort }[] = [
  { label: 'in-process', create: () => createInProcessQueue({ retry: RETRY }) },
  { label: 'bullmq', create: () => createBullmqQueue({ redisUrl: testRedisUrl(), queueName: `test-${randomUUID()}`, retry: RETRY }) },
];

async function tableRows(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT step || '|' || event_date::text || '|' || n || '|' || generation || '|' || value AS line FROM fixture_day_rows ORDER BY step, event_date, n`,
  );
  return rows.map((row) => row.line);
}

for (const adapter of adapters) {
  describe(`daily flow on ${adapter.label}`, () => {
    let handle: TestDatabase;
    let queue: QueuePort;
    let worker: WorkerHandle | undefined;
    let control: FixtureControl;
    let service: JobService;

    beforeEach(async () => {
      handle = await pg.create();
      await handle.db.exec(FIXTURE_TABLES_SQL);
      queue = adapter.create();
      control = fixtureControl();
      service = createJobService({
        db: handle.db,
        queue,
        steps: fixtureDaySteps(handle.db, control),
        fullRefresh: fixtureFullRefresh(control),
        timeZone: 'Europe/Berlin',
        concurrency: 2,
        log: createLogger('error'),
      });
      worker = await service.startWorker();
    });

    afterEach(async () => {
      await worker?.close(0);
      await queue.close();
      await handle.dispose();
    });

    it('a 7-day backfill run twice gives identical tables, and really runs twice', async () => {
      const first = await service.startBackfill({ from: '2026-03-25', to: '2026-03-31', requestedBy: 'tester' });
      expect(first.dates).toHaveLength(7);
      expect((await service.waitForRun(first.runId)).run.outcome).toBe('succeeded');
      const afterFirst = await tableRows(handle.db);
      expect(afterFirst).toHaveLength(7 * 4 * 20);

      const second = await service.startBackfill({ from: '2026-03-25', to: '2026-03-31', requestedBy: 'tester' });
      expect(second.runId).not.toBe(first.runId);
      expect((await service.waitForRun(second.runId)).run.outcome).toBe('succeeded');
      expect(await tableRows(handle.db)).toEqual(afterFirst);

      const { rows } = await handle.db.query<{ step: string; applied: number }>(
        'SELECT step, count(*)::int AS applied FROM fixture_applications GROUP BY step ORDER BY step',
      );
      expect(rows).toEqual([
        { step: 'cold', applied: 14 },
        { step: 'completeness', applied: 14 },
        { step: 'quality', applied: 14 },
        { step: 'reconcile', applied: 14 },
      ]);
    });

    it('a full-refresh run refreshes once before any per-day step and runs no cold per day; a failed refresh fails every date', async () => {
      const run = await service.startBackfill({ from: '2026-06-01', to: '2026-06-03', fullRefresh: true, requestedBy: 'tester' });
      expect(run.steps).toEqual(['completeness', 'reconcile', 'quality']);
      const done = await service.waitForRun(run.runId);
      expect(done.run).toMatchObject({ outcome: 'succeeded', fullRefresh: true, datesSettled: 3, steps: ['completeness', 'reconcile', 'quality'] });
      expect(control.calls[0]).toBe('full-refresh');
      const perDay = ['2026-06-01', '2026-06-02', '2026-06-03'].flatMap((d) => ['completeness', 'reconcile', 'quality'].map((s) => `${s}.${d}`));
      expect(control.calls.slice(1).sort()).toEqual(perDay.sort());
      // Audited once, over the run's range.
      const audit = await handle.db.query<{ from: string; to: string; outcome: string }>(
        `SELECT range_from::text AS from, range_to::text AS to, outcome FROM job_runs WHERE run_id = $1 AND step = 'full-refresh'`,
        [run.runId],
      );
      expect(audit.rows).toEqual([{ from: '2026-06-01', to: '2026-06-03', outcome: 'succeeded' }]);

      control.calls.length = 0;
      control.failures.set('full-refresh', RETRY.failureAttempts);
      const failing = await service.startBackfill({ from: '2026-06-01', to: '2026-06-03', fullRefresh: true, requestedBy: 'tester' });
      const failed = await service.waitForRun(failing.runId);
      expect(failed.run).toMatchObject({ outcome: 'failed', datesSettled: 3 });
      expect(control.calls).toEqual(Array.from({ length: RETRY.failureAttempts }, () => 'full-refresh'));
      const days = await handle.db.query<{ outcome: string; error: string }>(`SELECT outcome, error FROM job_run_days WHERE run_id = $1 ORDER BY event_date`, [failing.runId]);
      expect(days.rows).toEqual([0, 1, 2].map(() => ({ outcome: 'failed', error: 'planned failure of full-refresh' })));
    });

    it('cancelling a full-refresh run during the refresh cancels every date; no per-day step runs', async () => {
      control.chunkDelayMs = 250;
      const run = await service.startBackfill({ from: '2026-06-10', to: '2026-06-11', fullRefresh: true, requestedBy: 'tester' });
      await waitUntil(() => control.calls.includes('full-refresh'), 10_000, 'the refresh to start');
      expect(await service.cancelRun(run.runId, 'tester')).toBe(true);
      const done = await service.waitForRun(run.runId);
      expect(done.run).toMatchObject({ outcome: 'cancelled', datesSettled: 2, cancelRequestedBy: 'tester' });
      expect(done.stepRuns.map((s) => [s.step, s.outcome])).toEqual([['full-refresh', 'cancelled']]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(control.calls).toEqual(['full-refresh']);
    });

    it('the same run id enqueued twice runs once', async () => {
      const request = { from: '2026-04-01', to: '2026-04-02', requestedBy: 'tester', runId: 'backfill-fixed-id', steps: ['cold'] as const };
      const one = await service.startBackfill(request);
      const two = await service.startBackfill(request);
      expect([one.created, two.created]).toEqual([true, false]);
      await service.waitForRun('backfill-fixed-id');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(control.calls.sort()).toEqual(['cold.2026-04-01', 'cold.2026-04-02']);
    });

    it('a cancelled backfill leaves every day wholly old or wholly new', async () => {
      control.generation = 'old';
      const old = await service.startBackfill({ from: '2026-05-01', to: '2026-05-07', steps: ['cold'], requestedBy: 'tester' });
      await service.waitForRun(old.runId);

      control.generation = 'new';
      control.chunkDelayMs = 60;
      const run = await service.startBackfill({ from: '2026-05-01', to: '2026-05-07', steps: ['cold'], requestedBy: 'tester' });
      const violations: string[] = [];
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const { rows } = await handle.db.query<{ event_date: string; rows: number; generations: number }>(
            `SELECT event_date::text, count(*)::int AS rows, count(DISTINCT generation)::int AS generations
               FROM fixture_day_rows GROUP BY event_date ORDER BY event_date`,
          );
          for (const row of rows) if (row.rows !== 20 || row.generations !== 1) violations.push(JSON.stringify(row));
          if (rows.length !== 7) violations.push(`days: ${rows.length}`);
        }
      })();
      // Let a couple of days finish, then cancel while others run.
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const { rows } = await handle.db.query<{ c: number }>(`SELECT count(*)::int AS c FROM fixture_applications WHERE generation = 'new'`);
        if ((rows[0]?.c ?? 0) >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await service.cancelRun(run.runId, 'operator')).toBe(true);
      const done = await service.waitForRun(run.runId);
      polling = false;
      await poll;
      expect(violations).toEqual([]);
      expect(done.run.outcome).toBe('cancelled');
      expect(done.run.cancelRequestedBy).toBe('operator');

      const { rows } = await handle.db.query<{ generation: string; days: number }>(
        `SELECT generation, count(DISTINCT event_date)::int AS days FROM fixture_day_rows GROUP BY generation ORDER BY generation`,
      );
      const byGeneration = Object.fromEntries(rows.map((row) => [row.generation, row.days]));
      expect((byGeneration['new'] ?? 0) + (byGeneration['old'] ?? 0)).toBe(7);
      expect(byGeneration['new']).toBeGreaterThanOrEqual(2);
      expect(byGeneration['old']).toBeGreaterThanOrEqual(1);
      // Each day's rows say new exactly when its step succeeded in this run.
      const succeeded = done.stepRuns.filter((s) => s.outcome === 'succeeded').map((s) => s.date);
      expect(succeeded).toHaveLength(byGeneration['new'] ?? 0);
    });

    it('audits every step attempt in job_runs with who, what, range and outcome', async () => {
      control.failures.set('reconcile.2026-06-01', 1);
      control.notReady.set('cold.2026-06-02', 2);
      const run = await service.startBackfill({ from: '2026-06-01', to: '2026-06-02', steps: ['reconcile', 'cold'], requestedBy: 'alice' });
      const done = await service.waitForRun(run.runId);
      expect(done.run).toMatchObject({
        runId: run.runId,
        job: 'backfill',
        from: '2026-06-01',
        to: '2026-06-02',
        requestedBy: 'alice',
        outcome: 'succeeded',
        dates: ['2026-06-01', '2026-06-02'],
        steps: ['cold', 'reconcile'],
        dryRun: false,
        datesSettled: 2,
        cancelRequestedBy: null,
      });
      expect(done.run.finishedAt).not.toBeNull();
      expect(done.stepRuns.map((s) => [s.date, s.step, s.attempt, s.outcome, s.error, s.requestedBy])).toEqual([
        ['2026-06-01', 'cold', 1, 'succeeded', null, 'alice'],
        ['2026-06-01', 'reconcile', 1, 'failed', 'planned failure of reconcile.2026-06-01', 'alice'],
        ['2026-06-01', 'reconcile', 2, 'succeeded', null, 'alice'],
        ['2026-06-02', 'cold', 1, 'not_ready', 'archive not complete for 2026-06-02', 'alice'],
        ['2026-06-02', 'cold', 2, 'not_ready', 'archive not complete for 2026-06-02', 'alice'],
        ['2026-06-02', 'cold', 3, 'succeeded', null, 'alice'],
        ['2026-06-02', 'reconcile', 1, 'succeeded', null, 'alice'],
      ]);
      const { rows } = await handle.db.query<{ job: string; step: string; range_from: string; range_to: string; task_id: string; detail: unknown }>(
        `SELECT job, step, range_from::text, range_to::text, task_id, detail FROM job_runs WHERE run_id = $1 AND outcome = 'succeeded' AND step = 'cold' ORDER BY range_from`,
        [run.runId],
      );
      expect(rows).toEqual([
        { job: 'backfill', step: 'cold', range_from: '2026-06-01', range_to: '2026-06-01', task_id: `${run.runId}.cold.2026-06-01`, detail: { dry_run: false, rows: 20 } },
        { job: 'backfill', step: 'cold', range_from: '2026-06-02', range_to: '2026-06-02', task_id: `${run.runId}.cold.2026-06-02`, detail: { dry_run: false, rows: 20 } },
      ]);
    });

    it('a day whose step keeps failing fails the run, and its later steps never run', async () => {
      control.failures.set('cold.2026-07-02', 99);
      const run = await service.startBackfill({ from: '2026-07-01', to: '2026-07-02', steps: ['cold', 'reconcile'], requestedBy: 'bob' });
      const done = await service.waitForRun(run.runId);
      expect(done.run.outcome).toBe('failed');
      expect(control.calls.filter((c) => c.endsWith('2026-07-02'))).toEqual(['cold.2026-07-02', 'cold.2026-07-02', 'cold.2026-07-02']);
      const { rows } = await handle.db.query<{ event_date: string; outcome: string; error: string | null }>(
        'SELECT event_date::text, outcome, error FROM job_run_days WHERE run_id = $1 ORDER BY event_date',
        [run.runId],
      );
      expect(rows).toEqual([
        { event_date: '2026-07-01', outcome: 'succeeded', error: null },
        { event_date: '2026-07-02', outcome: 'failed', error: 'planned failure of cold.2026-07-02' },
      ]);
    });

    it('the daily run covers yesterday in the mart time zone plus every dirty date, once', async () => {
      await handle.db.query(
        `INSERT INTO lake_days (event_date, cold_computed_at, dirty_since) VALUES
           ('2026-11-10', now(), now()), ('2026-11-12', now(), NULL), ('2026-11-20', now(), now())`,
      );
      // 00:30 on 24 November in Berlin is 23:30 UTC on the 23rd: yesterday is the 23rd.
      const nowMs = Date.parse('2026-11-23T23:30:00Z');
      const run = await service.startDaily({ nowMs });
      expect(run).toMatchObject({ runId: 'daily-2026-11-23', dates: ['2026-11-10', '2026-11-20', '2026-11-23'], created: true });
      const done = await service.waitForRun(run.runId);
      expect(done.run).toMatchObject({ job: 'daily', from: '2026-11-10', to: '2026-11-23', requestedBy: 'scheduler', outcome: 'succeeded' });
      expect(done.stepRuns).toHaveLength(12);

      const again = await service.startDaily({ nowMs: nowMs + 3_600_000 });
      expect(again).toMatchObject({ runId: 'daily-2026-11-23', created: false });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(control.calls).toHaveLength(12);
      expect((await service.getRun(run.runId))?.stepRuns).toHaveLength(12);
    });
  });
}

describe('embedded: in-process queue on PGlite (the demo)', () => {
  it('a backfill runs, is audited, and gives the same tables when run again', async () => {
    const pglite = testDatabaseFactories().find((factory) => factory.kind === 'pglite');
    if (pglite === undefined) throw new Error('no PGlite factory');
    const handle = await pglite.create();
    const queue = createInProcessQueue({ retry: RETRY });
    try {
      await handle.db.exec(FIXTURE_TABLES_SQL);
      const control = fixtureControl({ chunkDelayMs: 5 });
      control.failures.set('cold.2026-09-02', 1);
      const service = createJobService({
        db: handle.db,
        queue,
        steps: fixtureDaySteps(handle.db, control),
        timeZone: 'UTC',
        concurrency: 2,
        log: createLogger('error'),
      });
      const worker = await service.startWorker();
      const first = await service.startBackfill({ from: '2026-09-01', to: '2026-09-03', requestedBy: 'demo' });
      const done = await service.waitForRun(first.runId);
      const afterFirst = await tableRows(handle.db);
      const second = await service.startBackfill({ from: '2026-09-01', to: '2026-09-03', requestedBy: 'demo' });
      await service.waitForRun(second.runId);
      await worker.close(0);
      expect(done.run.outcome).toBe('succeeded');
      expect(done.stepRuns.filter((s) => s.outcome === 'failed').map((s) => [s.date, s.step, s.attempt])).toEqual([['2026-09-02', 'cold', 1]]);
      expect(done.stepRuns.filter((s) => s.outcome === 'succeeded')).toHaveLength(12);
      expect(afterFirst).toHaveLength(3 * 4 * 20);
      expect(await tableRows(handle.db)).toEqual(afterFirst);
      expect((await service.listRuns()).map((run) => [run.runId, run.outcome])).toEqual([
        [second.runId, 'succeeded'],
        [first.runId, 'succeeded'],
      ]);
    } finally {
      await queue.close();
      await handle.dispose();
    }
  });
});
