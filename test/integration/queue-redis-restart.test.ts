// BullMQ under failure, on a private redis-server (the shared one must not be disturbed): Redis
// killed and restarted in the middle of a daily flow, and a worker shut down mid-step. Either
// way the flow completes and no step is applied twice (applications counted in PostgreSQL).
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/io/log.ts';
import { createBullmqQueue } from '../../src/io/queue/bullmq-queue.ts';
import type { QueuePort, RetryPolicy } from '../../src/io/queue/queue-port.ts';
import { createJobService } from '../../src/jobs/job-service.ts';
import type { JobService } from '../../src/jobs/job-service.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { FIXTURE_TABLES_SQL, fixtureControl, fixtureDaySteps } from '../support/fixture-day-steps.ts';
import type { FixtureControl } from '../support/fixture-day-steps.ts';
import { startPrivateRedis } from '../support/redis.ts';
import type { PrivateRedis } from '../support/redis.ts';

const RETRY: RetryPolicy = { failureAttempts: 3, failureBackoffMs: 100, notReadyAttempts: 6, notReadyBackoffMs: 100, maxBackoffMs: 400 };
const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set: these tests need a PostgreSQL server');
const quiet = createLogger('error');

async function applications(handle: TestDatabase): Promise<{ step: string; event_date: string; applied: number }[]> {
  const { rows } = await handle.db.query<{ step: string; event_date: string; applied: number }>(
    'SELECT step, event_date::text, count(*)::int AS applied FROM fixture_applications GROUP BY step, event_date ORDER BY event_date, step',
  );
  return rows;
}

describe('BullMQ under failure', () => {
  let redis: PrivateRedis;
  let handle: TestDatabase;
  let control: FixtureControl;
  const queues: QueuePort[] = [];

  const service = (queue: QueuePort): JobService =>
    createJobService({ db: handle.db, queue, steps: fixtureDaySteps(handle.db, control), timeZone: 'UTC', concurrency: 2, log: quiet });

  beforeEach(async () => {
    redis = await startPrivateRedis();
    handle = await pg.create();
    await handle.db.exec(FIXTURE_TABLES_SQL);
    control = fixtureControl({ chunks: 4, chunkDelayMs: 120 });
  });

  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
    await handle.dispose();
    await redis.dispose();
  });

  it('a daily flow survives a Redis restart and applies every step exactly once', async () => {
    const queue = createBullmqQueue({ redisUrl: redis.url, queueName: `test-${randomUUID()}`, retry: RETRY });
    queues.push(queue);
    const jobs = service(queue);
    await handle.db.query(`INSERT INTO lake_days (event_date, cold_computed_at, dirty_since) VALUES ('2026-11-01', now(), now()), ('2026-11-02', now(), now())`);
    const worker = await jobs.startWorker();
    const run = await jobs.startDaily({ nowMs: Date.parse('2026-11-04T02:00:00Z') });
    expect(run.dates).toEqual(['2026-11-01', '2026-11-02', '2026-11-03']);

    const deadline = Date.now() + 30_000;
    while ((await applications(handle)).length < 2) {
      if (Date.now() > deadline) throw new Error('no step applied before the restart');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await redis.kill();
    const appliedWhileDown = (await applications(handle)).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.restart();

    const done = await jobs.waitForRun(run.runId);
    await worker.close(0);
    expect(done.run.outcome).toBe('succeeded');
    expect(appliedWhileDown).toBeLessThan(12);
    const applied = await applications(handle);
    expect(applied).toHaveLength(12);
    expect(applied.every((row) => row.applied === 1)).toBe(true);
    const { rows } = await handle.db.query<{ succeeded: number }>(
      `SELECT count(*)::int AS succeeded FROM job_runs WHERE run_id = $1 AND outcome = 'succeeded' AND step IS NOT NULL`,
      [run.runId],
    );
    expect(rows[0]?.succeeded).toBe(12);
  });

  it('a worker shut down mid-step hands the step back; another worker finishes it, once', async () => {
    const name = `test-${randomUUID()}`;
    const first = createBullmqQueue({ redisUrl: redis.url, queueName: name, retry: RETRY });
    queues.push(first);
    control.chunkDelayMs = 400;
    const jobs = service(first);
    const worker = await jobs.startWorker();
    const run = await jobs.startBackfill({ from: '2026-08-01', to: '2026-08-01', steps: ['cold'], requestedBy: 'tester' });
    const deadline = Date.now() + 20_000;
    while (control.calls.length === 0) {
      if (Date.now() > deadline) throw new Error('the step never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await worker.close(100);

    const second = createBullmqQueue({ redisUrl: redis.url, queueName: name, retry: RETRY });
    queues.push(second);
    control.chunkDelayMs = 0;
    const other = service(second);
    const otherWorker = await other.startWorker();
    const done = await other.waitForRun(run.runId);
    await otherWorker.close(0);
    expect(done.run.outcome).toBe('succeeded');
    expect(done.stepRuns.map((s) => [s.step, s.attempt, s.outcome])).toEqual([
      ['cold', 1, 'abandoned'],
      ['cold', 1, 'succeeded'],
    ]);
    expect(await applications(handle)).toEqual([{ step: 'cold', event_date: '2026-08-01', applied: 1 }]);
  });
});
