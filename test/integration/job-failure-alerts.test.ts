// Alerts of the job layer on a real local webhook receiver, on both queue adapters against
// PostgreSQL: a day whose step fails for good alerts once, a day failed by the quality step alerts
// once for the job and once per failed check — although every retry of the quality step records
// its checks again — and a 500 from the receiver is retried, then delivered once.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QualityResult } from '../../src/batch/quality-checks.ts';
import { createAlertNotifier } from '../../src/io/alerts/alert-notifier.ts';
import { createWebhookPoster } from '../../src/io/alerts/webhook-poster.ts';
import { createLogger } from '../../src/io/log.ts';
import { createBullmqQueue } from '../../src/io/queue/bullmq-queue.ts';
import { createInProcessQueue } from '../../src/io/queue/in-process-queue.ts';
import type { QueuePort, RetryPolicy, WorkerHandle } from '../../src/io/queue/queue-port.ts';
import type { DayStep } from '../../src/jobs/day-step.ts';
import { QualityCheckFailedError, writeQualityResults } from '../../src/jobs/day-steps/quality-step.ts';
import { stepOfTask } from '../../src/jobs/job-alerts.ts';
import { insertRun, settleRunDate } from '../../src/jobs/job-runs.ts';
import { createJobService } from '../../src/jobs/job-service.ts';
import type { JobService } from '../../src/jobs/job-service.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { FIXTURE_TABLES_SQL, fixtureControl, fixtureDaySteps } from '../support/fixture-day-steps.ts';
import { testRedisUrl } from '../support/redis.ts';

const RETRY: RetryPolicy = { failureAttempts: 3, failureBackoffMs: 50, notReadyAttempts: 3, notReadyBackoffMs: 50, maxBackoffMs: 200 };
const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set: these tests need a PostgreSQL server');

interface Receiver {
  readonly url: string;
  readonly calls: { text: string; status: number }[];
  close(): Promise<void>;
}

/** A webhook receiver answering the statuses in turn, then 200. */
async function startReceiver(statuses: number[]): Promise<Receiver> {
  const calls: Receiver['calls'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      calls.push({ text: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }).text, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const FAILED_CHECKS: QualityResult[] = [
  { check: 'pk_unique', mart: 'mart_daily_traffic', status: 'fail', observed: 2, expected: 1 },
  { check: 'no_negatives', mart: 'mart_clinical_areas', status: 'pass', observed: 0, expected: 0 },
  { check: 'events_match_daily_total', mart: 'mart_session_analysis', status: 'fail', observed: 1190, expected: 1200 },
];

/** A quality step that records FAILED_CHECKS for 2026-03-03 (at every attempt) and fails; passes other days. */
function qualityStep(handle: TestDatabase): DayStep {
  return async ({ date }) => {
    if (date !== '2026-03-03') return { summary: { checks: 0 } };
    await writeQualityResults(handle.db, date, FAILED_CHECKS);
    throw new QualityCheckFailedError(`quality checks of ${date} failed: 2 checks`);
  };
}

const adapters: { label: string; create: () => QueuePort }[] = [
  { label: 'in-process', create: () => createInProcessQueue({ retry: RETRY }) },
  { label: 'bullmq', create: () => createBullmqQueue({ redisUrl: testRedisUrl(), queueName: `test-${randomUUID()}`, retry: RETRY }) },
];

for (const adapter of adapters) {
  describe(`job failure alerts on ${adapter.label}`, () => {
    let handle: TestDatabase;
    let queue: QueuePort;
    let worker: WorkerHandle | undefined;
    let receiver: Receiver;
    let service: JobService;

    beforeEach(async () => {
      handle = await pg.create();
      await handle.db.exec(FIXTURE_TABLES_SQL);
      queue = adapter.create();
      // The first delivery attempt is answered 500: it must be retried, and delivered once.
      receiver = await startReceiver([500]);
      const control = fixtureControl({ failures: new Map([['cold.2026-03-02', 3]]) });
      service = createJobService({
        db: handle.db,
        queue,
        steps: { ...fixtureDaySteps(handle.db, control), quality: qualityStep(handle) },
        timeZone: 'UTC',
        concurrency: 2,
        log: createLogger('error'),
        alerts: createAlertNotifier({ post: createWebhookPoster(receiver.url), log: createLogger('error'), backoffBaseMs: 50, maxBackoffMs: 200 }),
      });
      worker = await service.startWorker();
    });

    afterEach(async () => {
      await worker?.close(0);
      await queue.close();
      await receiver.close();
      await handle.dispose();
    });

    it('alerts once per failed day and once per failed quality check; a 500 is retried', async () => {
      const started = await service.startBackfill({ from: '2026-03-01', to: '2026-03-03', requestedBy: 'tester' });
      const done = await service.waitForRun(started.runId, { pollMs: 50 });
      expect(done.run.outcome).toBe('failed');
      // Closing the worker waits for alerts still in flight (a retry after the 500).
      await worker!.close(0);
      worker = undefined;

      const delivered = receiver.calls.filter((c) => c.status === 200).map((c) => c.text);
      expect([...delivered].sort()).toEqual([
        'Job failed: backfill / cold for 2026-03-02: planned failure of cold.2026-03-02',
        'Job failed: backfill / quality for 2026-03-03: quality checks of 2026-03-03 failed: 2 checks',
        'Quality check failed: events_match_daily_total (mart_session_analysis) for 2026-03-03: observed 1190, expected 1200',
        'Quality check failed: pk_unique (mart_daily_traffic) for 2026-03-03: observed 2, expected 1',
      ]);
      // Exactly one refused attempt, and it is among the delivered ones (retried, not dropped).
      const refused = receiver.calls.filter((c) => c.status === 500);
      expect(refused).toHaveLength(1);
      expect(delivered).toContain(refused[0]!.text);
      expect(receiver.calls).toHaveLength(5);
      // The quality job failed for good after 3 attempts, each recording its failed checks:
      // 6 rows, but one alert per check.
      const { rows } = await handle.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM quality_results WHERE event_date = '2026-03-03' AND status = 'fail'`);
      expect(rows[0]!.n).toBe(6);
    });
  });
}

describe('job alert bookkeeping', () => {
  it('settleRunDate says whether it recorded the day, so a repeated settle does not alert again', async () => {
    const handle = await pg.create();
    try {
      await insertRun(handle.db, { runId: 'r1', job: 'backfill', requestedBy: 'tester', dates: ['2026-03-01'], steps: ['cold'], dryRun: false, fullRefresh: false });
      expect(await settleRunDate(handle.db, 'r1', '2026-03-01', 'failed', 'boom')).toBe(true);
      expect(await settleRunDate(handle.db, 'r1', '2026-03-01', 'failed', 'boom')).toBe(false);
    } finally {
      await handle.dispose();
    }
  });

  it('reads the step out of a day-step task id', () => {
    expect(stepOfTask('backfill-1', 'backfill-1.quality.2026-03-03')).toBe('quality');
    expect(stepOfTask('daily-2026-03-02', 'daily-2026-03-02.cold.2026-02-27')).toBe('cold');
    expect(stepOfTask('backfill-1', 'other.cold.2026-03-03')).toBeUndefined();
  });
});
