// The daily flow as queue chains (SPEC §6): per date, completeness → cold → reconcile → quality
// (or a backfill's subset, in that order), each step a task, each task audited in job_runs.
//
// Task ids — the idempotency rule. A task id is `<runId>.<step>.<date>`, and the queue runs an id
// at most once (BullMQ keeps completed ids for a week and ignores an add with a known id; the
// in-process queue remembers every id it saw). So:
//   - the scheduled flow's run id is `daily-<D>` for its day D: firing twice for the same day (two
//     schedulers, a re-upsert, a retried trigger) runs each step once; a dirty date X recomputed
//     by a later day's flow gets the id `daily-<D'>.cold.X`, a new task;
//   - a backfill's run id is `backfill-<uuid>` unless the caller passes one: running the same
//     backfill again after the first finished is a new run and really runs again, while a caller
//     retrying one request (same run id) gets one run.
// On top of the queue's memory, the worker checks job_runs for a succeeded row of the task id
// before running a step, so a queue that lost a completion (Redis restarted from an older AOF)
// does not apply a step twice.
import type { Database } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import { DEFAULT_RETRY_POLICY, TaskCancelledError, TaskNotReadyError, abortedForShutdown, errorText, retryDelayMs, shouldRetry } from '../io/queue/queue-port.ts';
import type { ChainSpec, TaskContext, TaskHandler, TaskSpec } from '../io/queue/queue-port.ts';
import { DAY_STEP_NAMES, DayStepCancelledError, DayStepNotReadyError } from './day-step.ts';
import type { AssumedComplete, DayStep, DayStepName, DayStepResult, StepWait } from './day-step.ts';
import { finishStepRun, startStepRun, taskSucceeded } from './job-runs.ts';
import type { RunKind, StepStart } from './job-runs.ts';

export const DAY_STEP_TASK = 'day-step';
export const DAILY_TRIGGER_TASK = 'daily-trigger';

/** What a day-step task carries. */
export interface DayStepTaskData {
  readonly job: RunKind;
  readonly step: DayStepName;
  readonly date: string;
  readonly dryRun: boolean;
  readonly requestedBy: string;
  /** `backfill --assume-complete`: the steps do not wait for watermarks. */
  readonly assumeComplete?: AssumedComplete;
}

export function dayStepTaskId(runId: string, step: DayStepName, date: string): string {
  return `${runId}.${step}.${date}`;
}

/** The steps in flow order, whatever order they were asked for in. */
export function orderedSteps(steps: readonly DayStepName[]): DayStepName[] {
  return DAY_STEP_NAMES.filter((name) => steps.includes(name));
}

export interface DayChainOptions {
  readonly job: RunKind;
  readonly runId: string;
  readonly steps: readonly DayStepName[];
  readonly dryRun: boolean;
  readonly requestedBy: string;
  readonly assumeComplete?: AssumedComplete;
}

export function dayChain(date: string, options: DayChainOptions): ChainSpec {
  const tasks: TaskSpec[] = orderedSteps(options.steps).map((step) => {
    const data: DayStepTaskData = {
      job: options.job,
      step,
      date,
      dryRun: options.dryRun,
      requestedBy: options.requestedBy,
      ...(options.assumeComplete === undefined ? {} : { assumeComplete: options.assumeComplete }),
    };
    return { id: dayStepTaskId(options.runId, step, date), name: DAY_STEP_TASK, data: { ...data } };
  });
  return { runId: options.runId, key: date, tasks };
}

function taskData(task: TaskSpec): DayStepTaskData {
  const data = task.data as Partial<DayStepTaskData>;
  if (typeof data.step !== 'string' || !(DAY_STEP_NAMES as readonly string[]).includes(data.step) || typeof data.date !== 'string') {
    throw new Error(`task ${task.id} does not name a day step and a date`);
  }
  return data as DayStepTaskData;
}

/**
 * Runs one step attempt under the job_runs audit: skip it if job_runs says this task already
 * succeeded, else record the attempt, run it, and translate the step's errors into the queue's
 * (not ready → retry on the long budget, cancelled → end the chain). Every task kind that does
 * real work (day steps, the full refresh) goes through here, so they are audited alike.
 */
export async function runAuditedStep(
  db: Database,
  log: Logger,
  task: TaskSpec,
  context: TaskContext,
  start: Omit<StepStart, 'runId' | 'taskId' | 'attempt'>,
  run: () => Promise<DayStepResult>,
): Promise<void> {
  if (await taskSucceeded(db, task.id)) {
    log.info('step already applied; not running it again', { task: task.id });
    return;
  }
  const rowId = await startStepRun(db, { ...start, runId: context.runId, taskId: task.id, attempt: context.attempt });
  try {
    const result = await run();
    await finishStepRun(db, rowId, 'succeeded', null, { ...result.summary });
  } catch (error) {
    const text = errorText(error);
    if (error instanceof DayStepNotReadyError) {
      const notReady = new TaskNotReadyError(text);
      await finishStepRun(db, rowId, 'not_ready', text, waitFacts(error.wait, context, notReady, Date.now()));
      throw notReady;
    }
    if (error instanceof DayStepCancelledError || context.signal.aborted) {
      const shutdown = abortedForShutdown(context.signal);
      await finishStepRun(db, rowId, shutdown ? 'abandoned' : 'cancelled', text, null);
      if (shutdown) throw error;
      throw new TaskCancelledError(text);
    }
    await finishStepRun(db, rowId, 'failed', text, null);
    log.error('step failed', { task: task.id, attempt: context.attempt, error: text });
    throw error;
  }
}

function isoOrNull(ms: number | null): string | null {
  if (ms === null) return null;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/**
 * What a waiting step records in job_runs, so a backfill's progress can say which watermark it
 * waits for, where it is, and when the next attempt comes (null: none, the wait budget is spent).
 */
function waitFacts(wait: StepWait | null, context: TaskContext, error: TaskNotReadyError, at: number): Record<string, string | null> {
  const policy = context.retry ?? DEFAULT_RETRY_POLICY;
  const next = shouldRetry(policy, context.attempt, error) ? at + retryDelayMs(policy, context.attempt, error) : null;
  return {
    ...(wait === null
      ? {}
      : { waiting_for: wait.waitingFor, waiting_on: wait.consumer, needed_watermark: isoOrNull(wait.needed), watermark: isoOrNull(wait.current) }),
    next_retry_at: isoOrNull(next),
  };
}

/** The handler of every day-step task: the task's step on its date, audited (runAuditedStep). */
export function dayStepHandler(db: Database, steps: Readonly<Record<DayStepName, DayStep>>, log: Logger, owner?: string): TaskHandler {
  return async (task, context) => {
    const data = taskData(task);
    await runAuditedStep(
      db,
      log,
      task,
      context,
      { job: data.job, step: data.step, date: data.date, requestedBy: data.requestedBy, dryRun: data.dryRun, ...(owner === undefined ? {} : { owner }) },
      () =>
        steps[data.step]({
          date: data.date,
          dryRun: data.dryRun,
          signal: context.signal,
          onProgress: (f) => context.progress(f),
          ...(data.assumeComplete === undefined ? {} : { assumeComplete: data.assumeComplete }),
        }),
    );
  };
}
