// The queue port (SPEC §6, §9): what the jobs layer needs from a job queue — ordered chains of
// named tasks with idempotent ids, retries with capped exponential backoff, a global concurrency
// limit, cancellation of a whole run, and a daily schedule in a time zone. Two adapters implement
// it (BullMQ over Redis, and in-process for the embedded demo); neither knows what a task does.

/** One unit of work. `id` is the idempotency key: a task id the queue has seen is never run again. */
export interface TaskSpec {
  readonly id: string;
  /** Selects the handler. */
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Tasks that run one after another: a task starts only after the previous one succeeded, and a
 * task that fails for good (or is cancelled) ends the chain. Chains run in parallel up to the
 * concurrency limit. A chain whose task ids the queue has already seen is not enqueued again.
 */
export interface ChainSpec {
  /** Groups chains for cancellation and bookkeeping (one backfill, one daily flow). */
  readonly runId: string;
  /** Names the chain within its run (e.g. its date). */
  readonly key: string;
  readonly tasks: readonly TaskSpec[];
}

export interface RetryPolicy {
  /** Attempts in all for a task that throws an ordinary error… */
  readonly failureAttempts: number;
  /** …with this delay before the first retry, doubling with every attempt made. */
  readonly failureBackoffMs: number;
  /** Attempts in all while a task throws TaskNotReadyError (waiting for data: hours)… */
  readonly notReadyAttempts: number;
  /** …with this delay before the first retry, doubling likewise. */
  readonly notReadyBackoffMs: number;
  /** The ceiling of every delay. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  // 10 s, then 20 s: a transient error (a dropped connection) passes, a bug fails in half a minute.
  failureAttempts: 3,
  failureBackoffMs: 10_000,
  // 1 min, 2, 4, 8, 16, then every 30 min: 48 attempts span about 21.5 hours.
  notReadyAttempts: 48,
  notReadyBackoffMs: 60_000,
  maxBackoffMs: 30 * 60_000,
});

/** The wait before retry number `attemptsMade` (1 after the first failure) after `error`. */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, error: unknown): number {
  const base = error instanceof TaskNotReadyError ? policy.notReadyBackoffMs : policy.failureBackoffMs;
  const exponent = Math.max(0, attemptsMade - 1);
  // 2 ** exponent overflows to Infinity long before it matters; min() then picks the ceiling.
  return Math.min(base * 2 ** exponent, policy.maxBackoffMs);
}

/** Whether a task that threw on attempt `attempt` (1-based) gets another attempt. */
export function shouldRetry(policy: RetryPolicy, attempt: number, error: unknown): boolean {
  if (error instanceof TaskCancelledError) return false;
  const limit = error instanceof TaskNotReadyError ? policy.notReadyAttempts : policy.failureAttempts;
  return attempt < limit;
}

export interface TaskContext {
  readonly runId: string;
  readonly chainKey: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** Aborted when the run is cancelled or the worker shuts down. */
  readonly signal: AbortSignal;
  /** The queue's retry policy: tells a waiting task when its next attempt comes. */
  readonly retry?: RetryPolicy;
  progress(fraction: number): void;
}

export type TaskHandler = (task: TaskSpec, context: TaskContext) => Promise<void>;

export type ChainOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface ChainSettled {
  readonly runId: string;
  readonly chainKey: string;
  readonly outcome: ChainOutcome;
  /** The task that ended the chain (the last one when it succeeded). */
  readonly taskId: string;
  readonly error: string | null;
}

export interface WorkerOptions {
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /** Tasks running at once, across every worker of the queue (BullMQ: global concurrency). */
  readonly concurrency: number;
  /**
   * Called when a chain can make no more progress. At least once: a crash between the call and
   * the queue's own bookkeeping calls it again, so it must be idempotent.
   */
  readonly onChainSettled?: (event: ChainSettled) => Promise<void>;
  /** Errors of the worker machinery itself (a lost connection), for logging. */
  readonly onError?: (error: Error) => void;
}

export interface WorkerHandle {
  /**
   * Stops taking tasks and waits up to graceMs for the running ones; then aborts them and hands
   * them back to the queue without spending an attempt, so another worker retries them.
   */
  close(graceMs?: number): Promise<void>;
}

export interface DailySchedule {
  /** Fixed id: upserting the same id replaces the schedule instead of adding one. */
  readonly id: string;
  readonly hour: number;
  readonly minute: number;
  readonly timeZone: string;
  /** The task enqueued at every firing, as a one-task chain of run `schedule:<id>`. */
  readonly task: { readonly name: string; readonly data: Readonly<Record<string, unknown>> };
  /** Firings start strictly after this instant (epoch ms), as BullMQ's startDate; default now. */
  readonly startAt?: number;
}

export interface QueuePort {
  readonly kind: 'bullmq' | 'in-process';
  /** Adds chains; chains already known (by task id) are skipped. Resolves once stored. */
  enqueue(chains: readonly ChainSpec[]): Promise<void>;
  /**
   * Cancels a run: running tasks of it see their signal aborted, pending ones never start (each
   * of its chains settles 'cancelled'). Idempotent; later tasks of the run are refused too.
   */
  cancelRun(runId: string): Promise<void>;
  startWorker(options: WorkerOptions): Promise<WorkerHandle>;
  /** Creates or replaces the daily schedule; resolves to its next firing (epoch ms). */
  upsertDailySchedule(schedule: DailySchedule): Promise<{ readonly nextRunAt: number }>;
  close(): Promise<void>;
}

/** Thrown by a handler whose input is not there yet: retried on the not-ready budget. */
export class TaskNotReadyError extends Error {
  readonly code = 'TASK_NOT_READY';
}

/** Thrown by a handler that stopped on its signal: never retried. */
export class TaskCancelledError extends Error {
  readonly code = 'TASK_CANCELLED';
}

/** The abort reason a worker gives its running tasks when it shuts down (not a cancellation). */
export const SHUTDOWN_REASON = 'worker shutting down';

/** Whether a task's signal was aborted to hand the task back to the queue at shutdown. */
export function abortedForShutdown(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason === SHUTDOWN_REASON;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
