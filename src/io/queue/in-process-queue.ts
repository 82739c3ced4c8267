// The in-process queue adapter: the queue port's semantics (chain order, retries with backoff,
// idempotent ids, a concurrency limit, cancellation, a daily schedule in a time zone) in this
// process's memory, for the embedded demo and `tidemark backfill` without REDIS_URL. Nothing
// survives the process: a task running at exit is simply not done, and the next daily flow or
// backfill (idempotent steps) does it again.
import { nextDailyRun } from './daily-time.ts';
import {
  DEFAULT_RETRY_POLICY,
  SHUTDOWN_REASON,
  TaskCancelledError,
  errorText,
  retryDelayMs,
  shouldRetry,
} from './queue-port.ts';
import type {
  ChainOutcome,
  ChainSpec,
  DailySchedule,
  QueuePort,
  RetryPolicy,
  WorkerHandle,
  WorkerOptions,
} from './queue-port.ts';

export interface InProcessQueueOptions {
  readonly retry?: RetryPolicy;
  /** The clock for schedules (tests); default Date.now. */
  readonly now?: () => number;
}

interface ChainState {
  readonly spec: ChainSpec;
  /** Index of the next task to run. */
  index: number;
  /** Attempts made of that task. */
  attempts: number;
  timer: NodeJS.Timeout | null;
  controller: AbortController | null;
}

// setTimeout fires at once for delays above 2^31 − 1 ms (about 24.8 days); longer waits re-arm.
const MAX_TIMER_MS = 2_147_483_647;

export function createInProcessQueue(options: InProcessQueueOptions = {}): QueuePort {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const now = options.now ?? Date.now;
  const known = new Set<string>();
  const ready: ChainState[] = [];
  const delayed = new Set<ChainState>();
  const running = new Set<ChainState>();
  const cancelled = new Set<string>();
  const schedules = new Map<string, NodeJS.Timeout>();
  let worker: WorkerOptions | null = null;
  let stopping = false;
  let idleWaiters: (() => void)[] = [];

  const notifyIdle = (): void => {
    if (running.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const settle = async (chain: ChainState, outcome: ChainOutcome, error: string | null): Promise<void> => {
    const task = chain.spec.tasks[Math.min(chain.index, chain.spec.tasks.length - 1)];
    try {
      await worker?.onChainSettled?.({ runId: chain.spec.runId, chainKey: chain.spec.key, outcome, taskId: task?.id ?? '', error });
    } catch (failure) {
      worker?.onError?.(failure as Error);
    }
  };

  const pump = (): void => {
    if (worker === null || stopping) return;
    while (running.size < worker.concurrency && ready.length > 0) {
      const chain = ready.shift() as ChainState;
      if (cancelled.has(chain.spec.runId)) {
        void settle(chain, 'cancelled', 'run cancelled');
        continue;
      }
      running.add(chain);
      void runTask(chain, worker).finally(() => {
        running.delete(chain);
        notifyIdle();
        pump();
      });
    }
  };

  const runTask = async (chain: ChainState, active: WorkerOptions): Promise<void> => {
    const task = chain.spec.tasks[chain.index];
    if (task === undefined) return;
    const attempt = chain.attempts + 1;
    const controller = new AbortController();
    chain.controller = controller;
    try {
      const handler = active.handlers[task.name];
      if (handler === undefined) throw new Error(`no handler for task ${JSON.stringify(task.name)}`);
      await handler(task, { runId: chain.spec.runId, chainKey: chain.spec.key, attempt, signal: controller.signal, retry: policy, progress: () => {} });
      chain.index += 1;
      chain.attempts = 0;
      if (chain.index >= chain.spec.tasks.length) await settle(chain, 'succeeded', null);
      // First in line again: a chain, once started, finishes before the next one starts.
      else ready.unshift(chain);
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason === SHUTDOWN_REASON) {
        ready.unshift(chain);
      } else if (cancelled.has(chain.spec.runId) || error instanceof TaskCancelledError) {
        await settle(chain, 'cancelled', errorText(error));
      } else if (shouldRetry(policy, attempt, error)) {
        chain.attempts = attempt;
        delayed.add(chain);
        chain.timer = setTimeout(() => {
          chain.timer = null;
          delayed.delete(chain);
          ready.push(chain);
          pump();
        }, retryDelayMs(policy, attempt, error));
      } else {
        await settle(chain, 'failed', errorText(error));
      }
    } finally {
      chain.controller = null;
    }
  };

  const arm = (schedule: DailySchedule, at: number): void => {
    const timer = setTimeout(() => {
      if (now() < at) {
        arm(schedule, at);
        return;
      }
      const chain: ChainSpec = {
        runId: `schedule:${schedule.id}`,
        key: new Date(at).toISOString(),
        tasks: [{ id: `${schedule.id}-${at}`, name: schedule.task.name, data: schedule.task.data }],
      };
      void queue.enqueue([chain]);
      arm(schedule, nextDailyRun(at, schedule.hour, schedule.minute, schedule.timeZone));
    }, Math.min(Math.max(0, at - now()), MAX_TIMER_MS));
    // A schedule alone does not keep the process alive; the demo's server does.
    timer.unref();
    schedules.set(schedule.id, timer);
  };

  const closeWorker = async (graceMs: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const chain of delayed) if (chain.timer !== null) clearTimeout(chain.timer);
    if (running.size > 0) {
      const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const first = await Promise.race([idle, timeout]);
      clearTimeout(timer);
      if (first === 'timeout') {
        for (const chain of running) chain.controller?.abort(SHUTDOWN_REASON);
        await idle;
      }
    }
  };

  const queue: QueuePort = {
    kind: 'in-process',
    async enqueue(chains) {
      for (const spec of chains) {
        if (spec.tasks.length === 0 || spec.tasks.some((task) => known.has(task.id))) continue;
        for (const task of spec.tasks) known.add(task.id);
        ready.push({ spec, index: 0, attempts: 0, timer: null, controller: null });
      }
      pump();
    },
    async cancelRun(runId) {
      cancelled.add(runId);
      const pending: ChainState[] = [];
      for (let i = ready.length - 1; i >= 0; i--) {
        const chain = ready[i] as ChainState;
        if (chain.spec.runId === runId) pending.push(...ready.splice(i, 1));
      }
      for (const chain of delayed) {
        if (chain.spec.runId !== runId) continue;
        if (chain.timer !== null) clearTimeout(chain.timer);
        delayed.delete(chain);
        pending.push(chain);
      }
      for (const chain of running) if (chain.spec.runId === runId) chain.controller?.abort(new TaskCancelledError('run cancelled'));
      await Promise.all(pending.reverse().map((chain) => settle(chain, 'cancelled', 'run cancelled')));
    },
    async startWorker(workerOptions): Promise<WorkerHandle> {
      if (worker !== null) throw new Error('the in-process queue runs one worker');
      if (!Number.isSafeInteger(workerOptions.concurrency) || workerOptions.concurrency < 1) {
        throw new RangeError(`concurrency must be a positive integer, got ${workerOptions.concurrency}`);
      }
      worker = workerOptions;
      pump();
      return { close: (graceMs = 30_000) => closeWorker(graceMs) };
    },
    async upsertDailySchedule(schedule) {
      const previous = schedules.get(schedule.id);
      if (previous !== undefined) clearTimeout(previous);
      const after = Math.max(now(), schedule.startAt ?? 0);
      const nextRunAt = nextDailyRun(after, schedule.hour, schedule.minute, schedule.timeZone);
      arm(schedule, nextRunAt);
      return { nextRunAt };
    },
    async close() {
      for (const timer of schedules.values()) clearTimeout(timer);
      schedules.clear();
      await closeWorker(0);
    },
  };
  return queue;
}
