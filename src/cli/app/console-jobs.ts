// What `tidemark console` offers operators of the job queue. With REDIS_URL: POST /api/backfill
// and /api/reconcile enqueue runs on the BullMQ queue (the `tidemark worker` processes run them;
// this process only enqueues and audits), and bull-board shows the queue under /admin/queues.
// Without REDIS_URL there is no queue a worker could take runs from: the endpoints answer 503
// and say what to do instead.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import type { Logger } from '../../io/log.ts';
import { createJobService } from '../../jobs/job-service.ts';
import type { Mount } from '../../server/http-server.ts';
import type { JobControl } from '../../server/job-control.ts';
import { jobControlFor } from './job-control.ts';

export const QUEUE_BOARD_PREFIX = '/admin/queues';

export const NO_REDIS_FOR_JOBS =
  'REDIS_URL is not set: this console has no queue to start runs on. Set REDIS_URL (and run `tidemark worker`), ' +
  'or use `tidemark backfill` / `tidemark reconcile` on the command line';

export interface ConsoleJobs {
  readonly jobs?: JobControl;
  readonly jobsUnavailable?: string;
  readonly mounts: readonly Mount[];
  close(): Promise<void>;
}

/** BullMQ and bull-board are loaded only with REDIS_URL. */
export async function consoleJobs(config: TidemarkConfig, db: Database, queueName: string, log: Logger): Promise<ConsoleJobs> {
  const redisUrl = config.redis.url;
  if (redisUrl === null) return { jobsUnavailable: NO_REDIS_FOR_JOBS, mounts: [], close: async () => {} };
  const queue = (await import('../../io/queue/bullmq-queue.ts')).createBullmqQueue({ redisUrl, queueName });
  // No steps: a worker elsewhere runs them (and raises their alerts); this service enqueues.
  const service = createJobService({ db, queue, timeZone: config.marts.timeZone, concurrency: config.jobs.concurrency, log });
  const board = (await import('../../io/queue/queue-board.ts')).createQueueBoard({ redisUrl, queueName, prefix: QUEUE_BOARD_PREFIX });
  return {
    jobs: jobControlFor(service),
    mounts: [{ prefix: board.prefix, handler: board.handler }],
    async close() {
      await board.close();
      await queue.close();
    },
  };
}
