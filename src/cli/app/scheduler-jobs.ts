// The demo's scheduler (SPEC §9): the daily flow and backfills with the same job service, day
// steps and job_runs audit as `tidemark worker`. Without Redis it runs them on the in-process
// queue; with REDIS_URL it is a BullMQ worker on the shared queue (so `tidemark worker`
// processes elsewhere may take steps too) and bull-board shows that queue. The daily
// 02:00 MART_TIMEZONE schedule is armed, and — because the demo's generated history already
// covers yesterday — yesterday's flow is started once at start-up when it has not run, so the
// console's job runs and reconcile drift are not empty for the first day.
import type { TidemarkConfig } from '../../config.ts';
import type { AlertNotifier } from '../../io/alerts/alert-notifier.ts';
import type { Database } from '../../io/db/database.ts';
import type { Logger } from '../../io/log.ts';
import { yesterdayIn } from '../../io/queue/daily-time.ts';
import { createInProcessQueue } from '../../io/queue/in-process-queue.ts';
import type { QueueBoard } from '../../io/queue/queue-board.ts';
import { createConfiguredJobService } from '../../jobs/day-steps/index.ts';
import type { JobService } from '../../jobs/job-service.ts';
import type { Mount } from '../../server/http-server.ts';
import type { Component } from './components.ts';
import { QUEUE_BOARD_PREFIX } from './console-jobs.ts';

/** A BullMQ queue in Redis; the caller has checked that Redis does not evict keys. */
export interface SchedulerRedis {
  readonly url: string;
  readonly queueName: string;
}

export interface SchedulerJobsOptions {
  readonly config: TidemarkConfig;
  readonly db: Database;
  readonly log: Logger;
  readonly alerts?: AlertNotifier;
  /** Absent: the in-process queue (nothing outside this process can take its steps). */
  readonly redis?: SchedulerRedis;
  /**
   * Whether yesterday's start-up run may begin (polled every few seconds). The demo waits for
   * its stream to catch up, so that reconcile and quality see hot rows the stream no longer
   * rewrites. Default: at once.
   */
  readonly readyForStartupRun?: () => Promise<boolean>;
  /** How long running steps get at shutdown before they are abandoned (default 10 s). */
  readonly graceMs?: number;
  readonly pollMs?: number;
}

export interface SchedulerJobs {
  /** For the HTTP API's JobControl and for tests; enqueues onto the scheduler's queue. */
  readonly service: JobService;
  readonly component: Component;
  /** bull-board under /admin/queues with Redis (the HTTP server puts its token check in front); none in-process. */
  readonly mounts: readonly Mount[];
}

/** BullMQ and bull-board are loaded only with REDIS_URL: the in-process demo never needs them. */
export async function schedulerJobs(options: SchedulerJobsOptions): Promise<SchedulerJobs> {
  const { config, db, log, redis } = options;
  const queue = redis === undefined ? createInProcessQueue() : (await import('../../io/queue/bullmq-queue.ts')).createBullmqQueue({ redisUrl: redis.url, queueName: redis.queueName });
  const board: QueueBoard | undefined =
    redis === undefined ? undefined : (await import('../../io/queue/queue-board.ts')).createQueueBoard({ redisUrl: redis.url, queueName: redis.queueName, prefix: QUEUE_BOARD_PREFIX });
  const service = createConfiguredJobService({ db, config, queue, log, ...(options.alerts === undefined ? {} : { alerts: options.alerts }) });

  /** Yesterday's daily flow, unless a run of it exists that is not still open. */
  const startupRun = async (signal: AbortSignal): Promise<void> => {
    const day = yesterdayIn(Date.now(), config.marts.timeZone);
    const existing = await service.getRun(`daily-${day}`);
    // A run left 'running' by an earlier stop is resumed (its finished steps are skipped); one
    // that ended, even failed, is left alone rather than re-alerting at every start.
    if (existing !== null && existing.run.outcome !== 'running') return;
    const ready = options.readyForStartupRun ?? (async () => true);
    while (!(await ready().catch(() => false))) {
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
    }
    if (signal.aborted) return;
    const started = await service.startDaily({ requestedBy: 'demo start-up' });
    log.info('started the daily flow for yesterday', { run: started.runId, dates: started.dates });
  };

  const component: Component = {
    name: 'scheduler',
    async run(signal, started) {
      const worker = await service.startWorker();
      try {
        const next = await service.schedule();
        log.info(`daily flow scheduled (${redis === undefined ? 'in-process' : `BullMQ queue ${redis.queueName}`})`, { next: new Date(next).toISOString(), timeZone: config.marts.timeZone });
        started();
        const startup = startupRun(signal).catch((error: unknown) => log.error('could not start the daily flow for yesterday', { error: (error as Error).message }));
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await startup;
      } finally {
        // Steps still running after the grace period are abandoned (job_runs says so); the run
        // stays open and the next start resumes it.
        await worker.close(options.graceMs ?? 10_000);
        await board?.close();
        await queue.close();
      }
    },
  };
  return { service, component, mounts: board === undefined ? [] : [{ prefix: board.prefix, handler: board.handler }] };
}
