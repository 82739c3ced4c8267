// The daily schedule on both adapters: BullMQ's Job Scheduler (cron with tz) and the in-process
// timer agree on the next run, DST changes included; upserting twice keeps one scheduler; and
// the in-process schedule, when it fires, starts the daily flow for yesterday.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/io/log.ts';
import { createBullmqQueue } from '../../src/io/queue/bullmq-queue.ts';
import { localWallTimeToInstant } from '../../src/io/queue/daily-time.ts';
import { createInProcessQueue } from '../../src/io/queue/in-process-queue.ts';
import type { QueuePort } from '../../src/io/queue/queue-port.ts';
import { DAILY_SCHEDULE_ID, createJobService, scheduleDailyFlow } from '../../src/jobs/job-service.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { FIXTURE_TABLES_SQL, fixtureControl, fixtureDaySteps } from '../support/fixture-day-steps.ts';
import { waitUntil } from '../support/queue-conformance.ts';
import { testRedisUrl } from '../support/redis.ts';

// Next year's changes, so that startAt is in the future for BullMQ. Berlin: 28 March 2027 02:00
// CET does not exist (fires at 03:00 CEST, 01:00 UTC, as cron does); 31 October 2027 02:00
// happens twice (fires once, at 02:00 CEST, 00:00 UTC).
const CASES = [
  { zone: 'Europe/Berlin', startAt: '2027-03-27T12:00:00Z', next: '2027-03-28T01:00:00.000Z' },
  { zone: 'Europe/Berlin', startAt: '2027-03-28T01:00:01Z', next: '2027-03-29T00:00:00.000Z' },
  { zone: 'Europe/Berlin', startAt: '2027-10-30T12:00:00Z', next: '2027-10-31T00:00:00.000Z' },
  { zone: 'Europe/Berlin', startAt: '2027-10-31T00:00:01Z', next: '2027-11-01T01:00:00.000Z' },
  { zone: 'Europe/Berlin', startAt: '2027-06-10T12:00:00Z', next: '2027-06-11T00:00:00.000Z' },
  { zone: 'America/New_York', startAt: '2027-03-13T12:00:00Z', next: '2027-03-14T07:00:00.000Z' },
  // A firing exactly at startAt does not count (BullMQ: cron from startDate, exclusive).
  { zone: 'UTC', startAt: '2027-01-01T02:00:00Z', next: '2027-01-02T02:00:00.000Z' },
];

describe('the daily schedule', () => {
  const queues: QueuePort[] = [];
  afterAll(async () => {
    for (const queue of queues) await queue.close();
  });

  for (const { zone, startAt, next } of CASES) {
    it(`next run after ${startAt} in ${zone} is ${next} on both adapters`, async () => {
      const name = `test-${randomUUID()}`;
      const bull = createBullmqQueue({ redisUrl: testRedisUrl(), queueName: name });
      const local = createInProcessQueue();
      queues.push(bull, local);
      const startMs = Date.parse(startAt);
      expect(new Date(await scheduleDailyFlow(bull, zone, startMs)).toISOString()).toBe(next);
      expect(new Date(await scheduleDailyFlow(local, zone, startMs)).toISOString()).toBe(next);
    });
  }

  it('upserting the schedule again replaces it: one Job Scheduler, pattern 0 2 * * * in the zone', async () => {
    const name = `test-${randomUUID()}`;
    const bull = createBullmqQueue({ redisUrl: testRedisUrl(), queueName: name });
    queues.push(bull);
    await scheduleDailyFlow(bull, 'UTC');
    await scheduleDailyFlow(bull, 'Europe/Berlin');
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const inspect = new Queue(name, { connection });
    try {
      expect(await inspect.getJobSchedulersCount()).toBe(1);
      const stored = await inspect.getJobScheduler(DAILY_SCHEDULE_ID);
      expect({ pattern: stored?.pattern, tz: stored?.tz, name: stored?.name }).toEqual({ pattern: '0 2 * * *', tz: 'Europe/Berlin', name: 'daily-trigger' });
    } finally {
      await inspect.close();
      connection.disconnect();
    }
  });

  it('the in-process schedule fires at 02:00 local and runs the daily flow for yesterday', async () => {
    const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
    if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set');
    const handle = await pg.create();
    try {
      await handle.db.exec(FIXTURE_TABLES_SQL);
      // A clock that reaches 02:00 Berlin on 28 March 2027 (the DST day) 700 ms from now.
      const fireAt = localWallTimeToInstant('2027-03-28', 2, 0, 'Europe/Berlin');
      const shift = fireAt - 700 - Date.now();
      const now = (): number => Date.now() + shift;
      const queue = createInProcessQueue({ now });
      queues.push(queue);
      const control = fixtureControl();
      const service = createJobService({
        db: handle.db,
        queue,
        steps: fixtureDaySteps(handle.db, control),
        timeZone: 'Europe/Berlin',
        concurrency: 2,
        log: createLogger('error'),
        now,
      });
      const worker = await service.startWorker();
      expect(new Date(await service.schedule()).toISOString()).toBe('2027-03-28T01:00:00.000Z');
      await waitUntil(() => control.calls.length === 4, 20_000, 'the scheduled flow');
      const done = await service.waitForRun('daily-2027-03-27');
      await worker.close(0);
      expect(done.run).toMatchObject({ job: 'daily', from: '2027-03-27', to: '2027-03-27', requestedBy: 'scheduler', outcome: 'succeeded' });
      expect(control.calls).toEqual(['completeness.2027-03-27', 'cold.2027-03-27', 'reconcile.2027-03-27', 'quality.2027-03-27']);
    } finally {
      await handle.dispose();
    }
  });
});

describe('the BullMQ daily trigger', () => {
  it('a firing of the Job Scheduler starts the daily flow for yesterday on a worker', async () => {
    const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
    if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set');
    const handle = await pg.create();
    const name = `test-${randomUUID()}`;
    const queue = createBullmqQueue({ redisUrl: testRedisUrl(), queueName: name });
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const inspect = new Queue(name, { connection });
    try {
      await handle.db.exec(FIXTURE_TABLES_SQL);
      const control = fixtureControl();
      const service = createJobService({
        db: handle.db,
        queue,
        steps: fixtureDaySteps(handle.db, control),
        timeZone: 'Europe/Berlin',
        concurrency: 2,
        log: createLogger('error'),
        now: () => Date.parse('2026-07-15T00:30:00Z'),
      });
      await service.schedule();
      const worker = await service.startWorker();
      // Fire now instead of at 02:00: promote the scheduler's delayed job.
      const [next] = await inspect.getJobs(['delayed']);
      expect(next?.name).toBe('daily-trigger');
      await next?.promote();
      // 00:30 UTC on 15 July is 02:30 in Berlin: yesterday is the 14th.
      await waitUntil(() => control.calls.length === 4, 20_000, 'the triggered flow');
      const done = await service.waitForRun('daily-2026-07-14');
      await worker.close(0);
      expect(done.run).toMatchObject({ job: 'daily', from: '2026-07-14', to: '2026-07-14', requestedBy: 'scheduler', outcome: 'succeeded' });
      expect(control.calls).toEqual(['completeness.2026-07-14', 'cold.2026-07-14', 'reconcile.2026-07-14', 'quality.2026-07-14']);
    } finally {
      await inspect.close();
      connection.disconnect();
      await queue.close();
      await handle.dispose();
    }
  });
});
