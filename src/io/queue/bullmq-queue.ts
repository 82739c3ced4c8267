// The BullMQ adapter of the queue port: a chain is a FlowProducer tree whose root is the last
// task and whose deepest leaf is the first (children run before their parent), each child with
// failParentOnFailure so that a failed task ends the chain. Cancellation crosses processes
// through Redis: a per-run key that workers check before each task, and a pub/sub message that
// aborts the running ones.
import { DelayedError, FlowProducer, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { FlowJob, Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  DEFAULT_RETRY_POLICY,
  SHUTDOWN_REASON,
  TaskCancelledError,
  errorText,
  retryDelayMs,
  shouldRetry,
} from './queue-port.ts';
import type { ChainOutcome, ChainSpec, QueuePort, RetryPolicy, TaskSpec, WorkerHandle, WorkerOptions } from './queue-port.ts';

export interface BullmqQueueOptions {
  readonly redisUrl: string;
  /** One queue name per deployment (and per test). */
  readonly queueName: string;
  readonly retry?: RetryPolicy;
  /** Completed jobs are kept this long so that their ids keep deduplicating (default 7 days). */
  readonly keepCompletedMs?: number;
}

/** What every job of ours carries: the task and its place in a chain. */
interface ChainJobData {
  readonly runId: string;
  readonly chainKey: string;
  readonly task: TaskSpec;
  /** The chain's last task: its success settles the chain. */
  readonly last: boolean;
}

const DAY_MS = 86_400_000;
const BACKOFF_TYPE = 'tidemark';
const CANCELLED = 'run cancelled';

/** A connection BullMQ can block on: commands wait for a reconnect instead of failing. */
export function openRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

export function createBullmqQueue(options: BullmqQueueOptions): QueuePort {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const keepCompletedMs = options.keepCompletedMs ?? 7 * DAY_MS;
  const name = options.queueName;
  const connection = openRedis(options.redisUrl);
  // ioredis reconnects by itself; without a listener every failed attempt is printed as unhandled.
  connection.on('error', () => {});
  const queue = new Queue(name, { connection });
  const flows = new FlowProducer({ connection });
  // Connection errors while Redis is away: BullMQ retries; callers see them via a worker's onError.
  queue.on('error', () => {});
  flows.on('error', () => {});
  const cancelKey = (runId: string): string => `tidemark:${name}:cancelled:${runId}`;
  const cancelChannel = `tidemark:${name}:cancel`;
  const workers = new Set<WorkerHandle>();

  const jobOptions = {
    attempts: Math.max(policy.failureAttempts, policy.notReadyAttempts),
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { age: Math.ceil(keepCompletedMs / 1000) },
    removeOnFail: { age: Math.ceil((30 * DAY_MS) / 1000) },
  };

  const flowOf = (chain: ChainSpec): FlowJob => {
    let node: FlowJob | undefined;
    chain.tasks.forEach((task, i) => {
      const data: ChainJobData = { runId: chain.runId, chainKey: chain.key, task, last: i === chain.tasks.length - 1 };
      const child = node;
      node = {
        name: task.name,
        queueName: name,
        data,
        opts: { ...jobOptions, jobId: task.id },
        ...(child === undefined ? {} : { children: [{ ...child, opts: { ...child.opts, failParentOnFailure: true } }] }),
      } as FlowJob;
    });
    return node as FlowJob;
  };

  const isCancelled = async (runId: string): Promise<boolean> => (await connection.exists(cancelKey(runId))) === 1;

  const startWorker = async (workerOptions: WorkerOptions): Promise<WorkerHandle> => {
    if (!Number.isSafeInteger(workerOptions.concurrency) || workerOptions.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${workerOptions.concurrency}`);
    }
    // The limit holds across every worker process of the queue, not only this one.
    await queue.setGlobalConcurrency(workerOptions.concurrency);
    const active = new Map<string, string>();
    const abandoned = new Set<string>();

    const settle = async (data: ChainJobData, taskId: string, outcome: ChainOutcome, error: string | null): Promise<void> => {
      await workerOptions.onChainSettled?.({ runId: data.runId, chainKey: data.chainKey, outcome, taskId, error });
    };

    // Three parameters: BullMQ passes an AbortSignal only to processors that declare it.
    const processor = async (job: Job<ChainJobData>, token: string | undefined, signal?: AbortSignal): Promise<void> => {
      const data = job.data;
      const jobId = job.id ?? '';
      const task: TaskSpec = { ...data.task, id: data.task.id === '' ? jobId : data.task.id };
      const attempt = job.attemptsMade + 1;
      if (await isCancelled(data.runId)) {
        await settle(data, task.id, 'cancelled', CANCELLED);
        throw new UnrecoverableError(CANCELLED);
      }
      const handler = workerOptions.handlers[job.name];
      const controllerSignal = signal ?? new AbortController().signal;
      active.set(jobId, data.runId);
      try {
        if (handler === undefined) throw new Error(`no handler for task ${JSON.stringify(job.name)}`);
        await handler(task, {
          runId: data.runId,
          chainKey: data.chainKey,
          attempt,
          signal: controllerSignal,
          retry: policy,
          progress: (fraction) => void job.updateProgress(Math.round(fraction * 100)).catch(() => {}),
        });
        if (data.last) await settle(data, task.id, 'succeeded', null);
      } catch (error) {
        if (abandoned.has(jobId)) {
          // Shutdown: back to the queue without spending an attempt.
          await job.moveToDelayed(Date.now() + 1000, token);
          throw new DelayedError(SHUTDOWN_REASON);
        }
        if (error instanceof TaskCancelledError || (controllerSignal.aborted && (await isCancelled(data.runId)))) {
          await settle(data, task.id, 'cancelled', errorText(error));
          throw new UnrecoverableError(errorText(error));
        }
        if (shouldRetry(policy, attempt, error)) throw error;
        await settle(data, task.id, 'failed', errorText(error));
        throw new UnrecoverableError(errorText(error));
      } finally {
        active.delete(jobId);
        abandoned.delete(jobId);
      }
    };

    // BullMQ leaves a connection it was given open on close: this one is ours to end.
    const workerConnection = openRedis(options.redisUrl);
    workerConnection.on('error', (error: Error) => workerOptions.onError?.(error));
    const worker = new Worker<ChainJobData>(name, processor, {
      connection: workerConnection,
      concurrency: workerOptions.concurrency,
      // A stalled job goes back to wait (the job_runs guard keeps a step from applying twice);
      // only one that stalls this often is failed.
      maxStalledCount: 3,
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => retryDelayMs(policy, attemptsMade, error) },
    });
    worker.on('error', (error) => workerOptions.onError?.(error));
    // A job that stalled too often (its worker died, or blocked its event loop past the lock) is
    // failed by BullMQ's stalled check without reaching a processor: settle its chain here.
    // Best effort (an event), and idempotent like every settle.
    worker.on('stalled', (jobId: string) => {
      void (async () => {
        const job = (await queue.getJob(jobId)) as Job<ChainJobData> | undefined;
        if (job === undefined || !(await job.isFailed())) return;
        const taskId = job.data.task.id === '' ? jobId : job.data.task.id;
        await settle(job.data, taskId, 'failed', job.failedReason || 'job stalled more than allowable limit');
      })().catch((failure: unknown) => workerOptions.onError?.(failure as Error));
    });

    const subscriber = connection.duplicate();
    subscriber.on('error', (error: Error) => workerOptions.onError?.(error));
    await subscriber.subscribe(cancelChannel);
    subscriber.on('message', (_channel: string, runId: string) => {
      for (const [jobId, run] of active) if (run === runId) worker.cancelJob(jobId, CANCELLED);
    });

    let closing: Promise<void> | undefined;
    const handle: WorkerHandle = {
      close: (graceMs = 30_000) =>
        (closing ??= (async () => {
          const closed = worker.close();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
          if ((await Promise.race([closed.then(() => 'closed' as const), timeout])) === 'timeout') {
            for (const jobId of active.keys()) {
              abandoned.add(jobId);
              worker.cancelJob(jobId, SHUTDOWN_REASON);
            }
          }
          clearTimeout(timer);
          await closed;
          subscriber.disconnect();
          workerConnection.disconnect();
          workers.delete(handle);
        })()),
    };
    workers.add(handle);
    return handle;
  };

  return {
    kind: 'bullmq',
    async enqueue(chains) {
      for (const chain of chains) {
        const root = chain.tasks[chain.tasks.length - 1];
        if (root === undefined) continue;
        // A root id the queue still holds (waiting, running, done or failed) means a known chain.
        if ((await queue.getJob(root.id)) !== undefined) continue;
        await flows.add(flowOf(chain));
      }
    },
    async cancelRun(runId) {
      await connection.set(cancelKey(runId), new Date().toISOString(), 'PX', 30 * DAY_MS);
      await connection.publish(cancelChannel, runId);
      // Tasks backing off (not ready: perhaps for an hour) run now and settle as cancelled.
      for (const job of await queue.getJobs(['delayed'])) {
        if ((job.data as ChainJobData | undefined)?.runId === runId) await job.promote().catch(() => {});
      }
    },
    startWorker,
    async upsertDailySchedule(schedule) {
      const data: ChainJobData = {
        runId: `schedule:${schedule.id}`,
        chainKey: 'schedule',
        // The id is BullMQ's own per firing (one job per scheduler iteration).
        task: { id: '', name: schedule.task.name, data: schedule.task.data },
        last: true,
      };
      await queue.upsertJobScheduler(
        schedule.id,
        {
          pattern: `${schedule.minute} ${schedule.hour} * * *`,
          tz: schedule.timeZone,
          ...(schedule.startAt === undefined ? {} : { startDate: schedule.startAt }),
        },
        { name: schedule.task.name, data, opts: jobOptions },
      );
      const stored = await queue.getJobScheduler(schedule.id);
      if (stored?.next === undefined) throw new Error(`job scheduler ${schedule.id} has no next run`);
      return { nextRunAt: Number(stored.next) };
    },
    async close() {
      await Promise.all([...workers].map((worker) => worker.close(0)));
      await flows.close();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Why Redis cannot hold BullMQ's jobs, or null when it can (SPEC §9: noeviction). */
export async function redisEvictionProblem(redisUrl: string): Promise<{ readonly fatal: boolean; readonly message: string } | null> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  // connect() rejects with the same error; the event would only be printed as unhandled.
  client.on('error', () => {});
  try {
    await client.connect();
    let policy: string | undefined;
    try {
      const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch (error) {
      return { fatal: false, message: `cannot read Redis maxmemory-policy (CONFIG GET refused: ${errorText(error)}); make sure it is noeviction, or BullMQ may lose jobs` };
    }
    if (policy === undefined) return { fatal: false, message: 'Redis did not report maxmemory-policy; make sure it is noeviction, or BullMQ may lose jobs' };
    if (policy !== 'noeviction') {
      return { fatal: true, message: `Redis maxmemory-policy is ${policy}; BullMQ needs noeviction (an evicted job is lost silently): set maxmemory-policy noeviction` };
    }
    return null;
  } finally {
    client.disconnect();
  }
}
