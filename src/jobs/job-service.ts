// What the CLI, the HTTP API and the embedded demo call to run the daily flow and backfills
// (SPEC §6): enqueue, cancel, list and wait for runs, and start a worker — on whichever queue
// adapter they were given. The steps are injected, so this module knows only their contract.
import { randomUUID } from 'node:crypto';
import type { AlertNotifier } from '../io/alerts/alert-notifier.ts';
import type { Database } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import { yesterdayIn } from '../io/queue/daily-time.ts';
import { errorText } from '../io/queue/queue-port.ts';
import type { QueuePort, WorkerHandle } from '../io/queue/queue-port.ts';
import { addDays, localDate } from '../marts/time-zone.ts';
import { DAY_STEP_NAMES } from './day-step.ts';
import type { AssumedComplete, DayStep, DayStepName, FullRefreshStep } from './day-step.ts';
import { DAILY_TRIGGER_TASK, DAY_STEP_TASK, dayChain, dayStepHandler, orderedSteps } from './daily-flow.ts';
import { alertFailedDay } from './job-alerts.ts';
import { FULL_REFRESH_TASK, fullRefreshChain, fullRefreshHandler, stepsAfterFullRefresh } from './full-refresh-flow.ts';
import { OWNER_HEARTBEAT_MS, OWNER_STALE_MS, abandonOwnRuns, beatOwner, cancelRequestsFor, markAbandonedRuns, newOwnerId, retireOwner } from './job-owner.ts';
import { FULL_REFRESH_CHAIN_KEY, getRun, insertRun, listRuns, listStepRuns, markCancelRequested, reopenAbandonedRun, settleRunDate } from './job-runs.ts';
import type { RunSummary, StepRun } from './job-runs.ts';

/** The BullMQ queue the worker, `schedule`, `backfill` and the HTTP API share unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'tidemark-jobs';
export const DAILY_SCHEDULE_ID = 'tidemark-daily-flow';
/** SPEC §6: the daily flow runs at 02:00 MART_TIMEZONE. */
export const DAILY_AT = { hour: 2, minute: 0 } as const;
/** A backfill longer than this is almost certainly a typo in --from/--to. */
export const MAX_BACKFILL_DAYS = 3660;

export interface BackfillRequest {
  /** YYYY-MM-DD, inclusive. */
  readonly from: string;
  /** YYYY-MM-DD, inclusive. */
  readonly to: string;
  /** Default: all four, in flow order. */
  readonly steps?: readonly DayStepName[];
  readonly dryRun?: boolean;
  readonly fullRefresh?: boolean;
  /** Who asked: a user name, `api:<caller>`… */
  readonly requestedBy: string;
  /** Idempotency key of the request; default a new `backfill-<uuid>`. */
  readonly runId?: string;
  /** `--assume-complete`: the operator declares the days complete (who: requestedBy). */
  readonly assumeComplete?: { readonly reason: string };
}

export interface RunStarted {
  readonly runId: string;
  readonly dates: readonly string[];
  readonly steps: readonly DayStepName[];
  /** False when the run existed already (same run id): nothing new was recorded. */
  readonly created: boolean;
}

export interface RunProgress {
  readonly run: RunSummary;
  readonly stepRuns: readonly StepRun[];
}

export interface JobService {
  startBackfill(request: BackfillRequest): Promise<RunStarted>;
  /** The daily flow for yesterday (in the mart time zone, at `nowMs`) plus every dirty date. */
  startDaily(options?: { readonly nowMs?: number; readonly requestedBy?: string }): Promise<RunStarted>;
  /** Cancels a run; false when there is no such run. */
  cancelRun(runId: string, requestedBy: string): Promise<boolean>;
  /** Marks this process's running in-process runs abandoned (it is being stopped); their ids. */
  abandonOwnRuns(why: string): Promise<string[]>;
  /** Runs an abandoned run again under its id (succeeded steps are skipped); false when it is not abandoned. */
  resumeRun(runId: string, requestedBy: string): Promise<RunStarted | null>;
  listRuns(limit?: number): Promise<RunSummary[]>;
  getRun(runId: string): Promise<RunProgress | null>;
  /** Polls job_runs until the run has ended; onProgress sees every change. */
  waitForRun(runId: string, options?: { readonly pollMs?: number; readonly signal?: AbortSignal; readonly onProgress?: (progress: RunProgress) => void }): Promise<RunProgress>;
  /** Runs day steps and daily triggers from the queue until the handle is closed. */
  startWorker(): Promise<WorkerHandle>;
  /** Creates or replaces the daily 02:00 schedule; resolves to its next firing (epoch ms). */
  schedule(): Promise<number>;
}

export interface JobServiceOptions {
  readonly db: Database;
  readonly queue: QueuePort;
  /** Needed by startWorker only: a process that just enqueues and lists (HTTP API) may omit it. */
  readonly steps?: Readonly<Record<DayStepName, DayStep>>;
  /** The run-wide step of `backfill --full-refresh` (worker only, like steps). */
  readonly fullRefresh?: FullRefreshStep;
  /** Run by the daily trigger after it enqueued the daily flow: the retention job (SPEC §6). */
  readonly dailyRetention?: () => Promise<void>;
  /** MART_TIMEZONE. */
  readonly timeZone: string;
  /** JOB_CONCURRENCY: steps running at once across all workers. */
  readonly concurrency: number;
  readonly log: Logger;
  readonly now?: () => number;
  /**
   * Alerts (ALERT_WEBHOOK_URL) raised by this service's worker: once per day of a run that
   * failed, and once per quality check that failed it. Optional: without it failures are logged.
   */
  readonly alerts?: AlertNotifier;
  /** This process's owner id (job-owner.ts); default a new one. */
  readonly owner?: string;
  /** How often the worker beats and looks for cancel requests; at most OWNER_HEARTBEAT_MS. */
  readonly ownerHeartbeatMs?: number;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** How long closing a worker waits at least for alerts still being posted. */
const ALERT_DRAIN_MS = 5000;

/** Every date from `from` to `to`, inclusive; RangeError on a bad or reversed range. */
export function datesBetween(from: string, to: string): string[] {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (!DATE_PATTERN.test(value) || addDays(value, 0) !== value) throw new RangeError(`${name} is not a YYYY-MM-DD date: ${JSON.stringify(value)}`);
  }
  if (from > to) throw new RangeError(`from (${from}) is after to (${to})`);
  const dates: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    dates.push(date);
    if (dates.length > MAX_BACKFILL_DAYS) throw new RangeError(`the range holds more than ${MAX_BACKFILL_DAYS} days`);
  }
  return dates;
}

/** Creates or replaces the daily 02:00 schedule; resolves to its next firing (epoch ms). */
export async function scheduleDailyFlow(queue: QueuePort, timeZone: string, startAt?: number): Promise<number> {
  const { nextRunAt } = await queue.upsertDailySchedule({
    id: DAILY_SCHEDULE_ID,
    ...DAILY_AT,
    timeZone,
    task: { name: DAILY_TRIGGER_TASK, data: {} },
    ...(startAt === undefined ? {} : { startAt }),
  });
  return nextRunAt;
}

/** RangeError when the range ends after today in the mart time zone: such a day has no events yet. */
export function refuseFutureDates(to: string, nowMs: number, timeZone: string): void {
  const today = localDate(nowMs, timeZone);
  if (to > today) throw new RangeError(`${to} is in the future (today is ${today} in ${timeZone}): there is nothing to compute yet`);
}

export function createJobService(options: JobServiceOptions): JobService {
  const { db, queue, log } = options;
  const now = options.now ?? Date.now;
  const owner = options.owner ?? newOwnerId();
  // Only this process can finish an in-process run: it owns it. BullMQ runs belong to no process.
  const runOwner = queue.kind === 'in-process' ? owner : undefined;
  let registered = false;
  const register = async (): Promise<void> => {
    if (registered) return;
    await beatOwner(db, owner);
    registered = true;
  };

  const start = async (
    job: 'daily' | 'backfill',
    runId: string,
    dates: readonly string[],
    steps: readonly DayStepName[],
    requestedBy: string,
    dryRun: boolean,
    fullRefresh: boolean,
    assumeComplete?: AssumedComplete,
  ): Promise<RunStarted> => {
    if (runOwner !== undefined) await register();
    const created = await insertRun(db, {
      runId,
      job,
      requestedBy,
      dates,
      steps,
      dryRun,
      fullRefresh,
      ...(assumeComplete === undefined ? {} : { assumeComplete }),
      ...(runOwner === undefined ? {} : { owner: runOwner }),
    });
    // A repeated request enqueues what the first one recorded, so its task ids match.
    const run = created ? null : await getRun(db, runId);
    const actualDates = run?.dates ?? dates;
    const actualSteps = (run?.steps as DayStepName[] | undefined) ?? steps;
    const assumed = run === null ? assumeComplete : (run.assumeComplete ?? undefined);
    const chainOptions = {
      job,
      runId,
      steps: actualSteps,
      dryRun: run?.dryRun ?? dryRun,
      requestedBy: run?.requestedBy ?? requestedBy,
      ...(assumed === undefined ? {} : { assumeComplete: assumed }),
    };
    // A full refresh is one run-wide task that enqueues the per-day chains once it has swapped the tables.
    const chains = (run?.fullRefresh ?? fullRefresh) ? [fullRefreshChain(actualDates, chainOptions)] : actualDates.map((date) => dayChain(date, chainOptions));
    await queue.enqueue(chains);
    log.info(created ? 'run enqueued' : 'run exists; enqueued again (idempotent)', { run: runId, job, dates: actualDates.length, steps: actualSteps });
    return { runId, dates: actualDates, steps: actualSteps, created };
  };

  const service: JobService = {
    async startBackfill(request) {
      const dates = datesBetween(request.from, request.to);
      refuseFutureDates(request.to, now(), options.timeZone);
      const reason = request.assumeComplete?.reason.trim();
      if (request.assumeComplete !== undefined && (reason === undefined || reason === '')) throw new RangeError('--assume-complete needs a reason');
      const requested = orderedSteps(request.steps ?? DAY_STEP_NAMES);
      if (requested.length === 0) throw new RangeError('no steps to run');
      const steps = request.fullRefresh === true ? stepsAfterFullRefresh(requested) : requested;
      const runId = request.runId ?? `backfill-${randomUUID()}`;
      if (runId.includes(':')) throw new RangeError('a run id may not contain ":"');
      const assumed = reason === undefined ? undefined : { by: request.requestedBy, reason };
      return start('backfill', runId, dates, steps, request.requestedBy, request.dryRun ?? false, request.fullRefresh ?? false, assumed);
    },
    abandonOwnRuns: (why) => abandonOwnRuns(db, owner, why),
    async resumeRun(runId, requestedBy) {
      if (runOwner === undefined) throw new RangeError('only an in-process run can be abandoned and resumed; a BullMQ run is finished by the workers');
      await register();
      if (!(await reopenAbandonedRun(db, runId, runOwner, requestedBy))) return null;
      const run = await getRun(db, runId);
      if (run === null) return null;
      log.info('abandoned run resumed', { run: runId, by: requestedBy });
      return start(run.job, runId, run.dates, run.steps as DayStepName[], run.requestedBy, run.dryRun, run.fullRefresh);
    },
    async startDaily(startOptions = {}) {
      const day = yesterdayIn(startOptions.nowMs ?? now(), options.timeZone);
      const { rows } = await db.query<{ event_date: string }>(
        `SELECT event_date::text FROM lake_days WHERE dirty_since IS NOT NULL AND event_date <> $1 ORDER BY event_date`,
        [day],
      );
      const dates = [...rows.map((row) => row.event_date), day];
      return start('daily', `daily-${day}`, dates, DAY_STEP_NAMES, startOptions.requestedBy ?? 'scheduler', false, false);
    },
    async cancelRun(runId, requestedBy) {
      const known = await markCancelRequested(db, runId, requestedBy);
      if (!known) return false;
      await queue.cancelRun(runId);
      log.info('run cancelled', { run: runId, by: requestedBy });
      return true;
    },
    listRuns: (limit) => listRuns(db, limit),
    async getRun(runId) {
      const run = await getRun(db, runId);
      return run === null ? null : { run, stepRuns: await listStepRuns(db, runId) };
    },
    async waitForRun(runId, waitOptions = {}) {
      let last = '';
      for (;;) {
        const progress = await service.getRun(runId);
        if (progress === null) throw new Error(`no run ${runId}`);
        const fingerprint = JSON.stringify([
          progress.run.outcome,
          progress.run.datesSettled,
          progress.run.cancelRequestedBy,
          progress.stepRuns.map((s) => [s.id, s.outcome]),
        ]);
        if (fingerprint !== last) {
          last = fingerprint;
          waitOptions.onProgress?.(progress);
        }
        if (progress.run.outcome !== 'running') return progress;
        waitOptions.signal?.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, waitOptions.pollMs ?? 250));
      }
    },
    startWorker: async () => {
      if (options.steps === undefined) throw new Error('this job service was created without day steps: it cannot run a worker');
      // Alerts go out beside the worker (a webhook retrying for seconds must not hold a queue
      // slot); closing the worker waits for the ones still in flight.
      const alerting = new Set<Promise<void>>();
      const raise = (send: () => Promise<unknown>): void => {
        const sending = send().then(
          () => undefined,
          () => undefined,
        );
        alerting.add(sending);
        void sending.finally(() => alerting.delete(sending));
      };
      await register();
      // No orphans: rows of processes that died (kill -9, a lost machine) stop claiming to run.
      // PGlite is held by one process at a time, so whatever ran before this one is gone.
      const abandoned = await markAbandonedRuns(db, owner, db.dialect === 'pglite' ? 0 : OWNER_STALE_MS);
      if (abandoned.steps > 0 || abandoned.runs.length > 0) {
        log.warn('marked the runs of stopped processes abandoned; resume one with `tidemark backfill --resume RUN_ID`', { steps: abandoned.steps, runs: abandoned.runs });
      }
      const heartbeat = setInterval(() => {
        void (async () => {
          await beatOwner(db, owner);
          // In-process runs are cancelled through job_runs (`backfill --cancel` needs no Redis).
          for (const runId of await cancelRequestsFor(db, owner)) await queue.cancelRun(runId);
        })().catch((error: unknown) => log.warn('job owner heartbeat failed', { error: errorText(error) }));
      }, Math.min(OWNER_HEARTBEAT_MS, options.ownerHeartbeatMs ?? OWNER_HEARTBEAT_MS));
      heartbeat.unref();
      const handle = await queue.startWorker({
        concurrency: options.concurrency,
        handlers: {
          [DAY_STEP_TASK]: dayStepHandler(db, options.steps, log, owner),
          [FULL_REFRESH_TASK]: fullRefreshHandler({ db, queue, refresh: options.fullRefresh, log, owner }),
          [DAILY_TRIGGER_TASK]: async () => {
            await service.startDaily();
            await options.dailyRetention?.();
          },
        },
        onChainSettled: async (event) => {
          if (event.runId.startsWith('schedule:')) {
            if (event.outcome !== 'succeeded') {
              log.error('the daily trigger failed', { error: event.error });
              const alerts = options.alerts;
              if (alerts !== undefined && event.outcome === 'failed') raise(() => alerts.notifyJobFailure({ job: 'daily-trigger', error: event.error ?? 'unknown error' }));
            }
            return;
          }
          const first = await settleRunDate(db, event.runId, event.chainKey, event.outcome, event.error);
          if (event.outcome === 'failed') {
            log.error(event.chainKey === FULL_REFRESH_CHAIN_KEY ? 'the full refresh of a run failed' : 'a day of a run failed', { run: event.runId, date: event.chainKey, task: event.taskId, error: event.error });
            // Only the settle that recorded the day alerts: the queue may settle a chain twice.
            const alerts = options.alerts;
            if (alerts !== undefined && first) {
              raise(() => alertFailedDay(db, alerts, { runId: event.runId, date: event.chainKey, taskId: event.taskId, error: event.error }, log));
            }
          }
        },
        onError: (error) => log.warn('queue worker error', { error: error.message }),
      });
      return {
        close: async (graceMs) => {
          clearInterval(heartbeat);
          await handle.close(graceMs);
          // A webhook that hangs must not hold a shutdown for its whole retry budget (minutes).
          let timer: NodeJS.Timeout | undefined;
          const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(graceMs ?? 30_000, ALERT_DRAIN_MS))));
          await Promise.race([Promise.all([...alerting]), bound]);
          clearTimeout(timer);
          if (alerting.size > 0) log.warn('stopped with alerts still undelivered', { alerts: alerting.size });
          await retireOwner(db, owner).catch(() => undefined);
        },
      };
    },
    schedule: () => scheduleDailyFlow(queue, options.timeZone),
  };
  return service;
}
