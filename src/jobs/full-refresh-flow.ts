// `backfill --full-refresh` on the queue (SPEC §6). The full refresh recomputes every complete
// date of the lake and swaps each whole cold table atomically, so it is one task per run, not a
// per-date step: the run starts as a single chain holding it. When it succeeds, its handler
// enqueues the per-day chains of the remaining steps (completeness, reconcile, quality — cold is
// what the refresh just did), which therefore never run before the swap. Task ids stay the
// idempotency rule: `<runId>.full-refresh`, then the usual `<runId>.<step>.<date>`; a retry of
// the refresh task after it succeeded (a crash before the queue noted it) skips the refresh and
// enqueues the same chains again, which the queue ignores.
import type { Database } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import type { ChainSpec, QueuePort, TaskHandler, TaskSpec } from '../io/queue/queue-port.ts';
import { DAY_STEP_NAMES } from './day-step.ts';
import type { DayStepName, FullRefreshStep } from './day-step.ts';
import { dayChain, orderedSteps, runAuditedStep } from './daily-flow.ts';
import type { DayChainOptions } from './daily-flow.ts';
import { FULL_REFRESH_CHAIN_KEY } from './job-runs.ts';

export const FULL_REFRESH_TASK = 'full-refresh';
/** job_runs.step of the refresh's attempts. */
export const FULL_REFRESH_STEP = 'full-refresh';

interface FullRefreshTaskData extends Omit<DayChainOptions, 'runId'> {
  /** The run's dates: the per-day chains enqueued after the refresh. */
  readonly dates: readonly string[];
}

/** The per-day steps of a full-refresh run: the requested ones without cold, which the refresh replaces. */
export function stepsAfterFullRefresh(steps: readonly DayStepName[]): DayStepName[] {
  return orderedSteps(steps).filter((step) => step !== 'cold');
}

export function fullRefreshChain(dates: readonly string[], options: DayChainOptions): ChainSpec {
  const data: FullRefreshTaskData = { job: options.job, steps: options.steps, dryRun: options.dryRun, requestedBy: options.requestedBy, dates };
  return { runId: options.runId, key: FULL_REFRESH_CHAIN_KEY, tasks: [{ id: `${options.runId}.${FULL_REFRESH_STEP}`, name: FULL_REFRESH_TASK, data: { ...data } }] };
}

function taskData(task: TaskSpec): FullRefreshTaskData {
  const data = task.data as Partial<FullRefreshTaskData>;
  const dates = data.dates;
  const steps = data.steps;
  if (!Array.isArray(dates) || dates.length === 0 || !Array.isArray(steps) || !steps.every((s) => (DAY_STEP_NAMES as readonly string[]).includes(s))) {
    throw new Error(`task ${task.id} does not carry the dates and steps of a full refresh`);
  }
  return data as FullRefreshTaskData;
}

/** The full-refresh task: the refresh (audited like a day step over the run's range), then the per-day chains. */
export function fullRefreshHandler(deps: { readonly db: Database; readonly queue: QueuePort; readonly refresh: FullRefreshStep | undefined; readonly log: Logger; readonly owner?: string }): TaskHandler {
  return async (task, context) => {
    const data = taskData(task);
    const refresh = deps.refresh;
    if (refresh === undefined) throw new Error('this worker was created without the full-refresh step');
    const first = data.dates[0] as string;
    const last = data.dates[data.dates.length - 1] as string;
    await runAuditedStep(
      deps.db,
      deps.log,
      task,
      context,
      { job: data.job, step: FULL_REFRESH_STEP, date: first, to: last, requestedBy: data.requestedBy, dryRun: data.dryRun, ...(deps.owner === undefined ? {} : { owner: deps.owner }) },
      () => refresh({ dryRun: data.dryRun, signal: context.signal, onProgress: (f) => context.progress(f) }),
    );
    if (data.steps.length === 0) return;
    const options: DayChainOptions = { job: data.job, runId: context.runId, steps: data.steps, dryRun: data.dryRun, requestedBy: data.requestedBy };
    await deps.queue.enqueue(data.dates.map((date) => dayChain(date, options)));
  };
}
