// The daily-flow commands (SPEC §6, §8): `worker` runs BullMQ jobs, `schedule` upserts the daily
// 02:00 Job Scheduler, `backfill` runs (or cancels) the flow for a date range — on BullMQ when
// REDIS_URL is set, otherwise on the in-process queue inside this process.
import { userInfo } from 'node:os';
import { loadConfigFromProcess, parseDuration } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { migrate } from '../../io/db/migrate.ts';
import { openDatabase } from '../../io/db/open-database.ts';
import { createLogger } from '../../io/log.ts';
import { archiveWatermark } from '../../io/mart-store/watermarks.ts';
import { createInProcessQueue } from '../../io/queue/in-process-queue.ts';
import type { QueuePort } from '../../io/queue/queue-port.ts';
import { addDays, localDate } from '../../marts/time-zone.ts';
import { DAY_STEP_NAMES } from '../../jobs/day-step.ts';
import type { DayStepName } from '../../jobs/day-step.ts';
import { createConfiguredJobService } from '../../jobs/day-steps/index.ts';
import { DEFAULT_QUEUE_NAME, datesBetween, scheduleDailyFlow } from '../../jobs/job-service.ts';
import type { JobService, RunProgress, RunStarted } from '../../jobs/job-service.ts';
import { configuredAlertNotifier } from '../app/job-alerts.ts';
import { checkRedis, requireRedis } from '../app/redis-check.ts';
import { describeWait, runWaits } from '../../jobs/run-waits.ts';
import { progressLine, summaryTable } from '../backfill-report.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';

function whoAmI(given: unknown): string {
  if (typeof given === 'string' && given.trim() !== '') return given.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function queueName(given: unknown): string {
  if (given === undefined) return DEFAULT_QUEUE_NAME;
  if (typeof given !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(given)) throw new UsageError('--queue takes letters, digits, - and _');
  return given;
}

/** `quiet`: a command with its own output logs warnings and errors only (unless LOG_LEVEL=debug). */
async function openJobs(config: TidemarkConfig, queue: QueuePort, quiet = false): Promise<{ db: Database; service: JobService }> {
  const db = await openDatabase({ url: config.database.url ?? undefined, embeddedDir: config.database.embeddedDir });
  try {
    await migrate(db);
    const log = createLogger(quiet && config.log.level === 'info' ? 'warn' : config.log.level, { component: 'jobs' });
    // Failed days and failed quality checks alert (ALERT_WEBHOOK_URL) from whichever process
    // runs the steps: `worker`, or `backfill` on its in-process queue.
    const service = createConfiguredJobService({ db, config, queue, log, alerts: configuredAlertNotifier(config) });
    return { db, service };
  } catch (error) {
    await db.close();
    throw error;
  }
}

function parseSteps(text: unknown): DayStepName[] | undefined {
  if (text === undefined) return undefined;
  const names = String(text).split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(DAY_STEP_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new UsageError(`--steps takes a comma-separated subset of ${DAY_STEP_NAMES.join(',')}`);
  return names as DayStepName[];
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

export const JOB_COMMANDS: Record<string, Command> = {
  worker: {
    summary: 'Run daily-flow and backfill steps from BullMQ until SIGTERM (needs REDIS_URL)',
    usage: `tidemark worker [--queue NAME] [--grace DURATION]

Takes day steps (completeness, cold, reconcile, quality), full refreshes and the daily trigger
(which enqueues the daily flow, then runs retention) from the BullMQ queue NAME (default
${DEFAULT_QUEUE_NAME}) in REDIS_URL, at most JOB_CONCURRENCY at once across all workers, and
audits every attempt in job_runs. Refuses a Redis whose maxmemory-policy is not
noeviction. On SIGTERM or SIGINT it stops taking steps, lets running ones finish for --grace
(default 30s), then aborts them and hands them back to the queue for another worker.
A day that fails for good, and each quality check that made it fail, alerts once (a log line,
and a POST to ALERT_WEBHOOK_URL when set, retried on 5xx and network errors).`,
    run: async (args) => {
      const { values } = parseFlags(args, { queue: { type: 'string' }, grace: { type: 'string' } });
      const config = loadConfigFromProcess();
      const url = requireRedis(config, 'worker');
      let graceMs = 30_000;
      if (values.grace !== undefined) {
        try {
          graceMs = parseDuration(String(values.grace));
        } catch (error) {
          throw new UsageError(`--grace: ${(error as Error).message}`);
        }
      }
      const name = queueName(values.queue);
      const refused = await checkRedis(url, 'worker');
      if (refused !== null) return refused;
      const log = createLogger(config.log.level, { component: 'worker', queue: name });
      const queue = (await import('../../io/queue/bullmq-queue.ts')).createBullmqQueue({ redisUrl: url, queueName: name });
      try {
        const { db, service } = await openJobs(config, queue);
        try {
          const worker = await service.startWorker();
          log.info('worker started', { concurrency: config.jobs.concurrency, timeZone: config.marts.timeZone });
          const signal = await waitForSignal();
          log.info('stopping: running steps get the grace period, then go back to the queue', { signal, graceMs });
          await worker.close(graceMs);
        } finally {
          await db.close();
        }
      } finally {
        await queue.close();
      }
      return 0;
    },
  },
  schedule: {
    summary: 'Create or update the daily 02:00 Job Scheduler in BullMQ, print the next run',
    usage: `tidemark schedule [--queue NAME]

Upserts the Job Scheduler that starts the daily flow at 02:00 MART_TIMEZONE (yesterday's date
plus every dirty date) in the BullMQ queue NAME (default ${DEFAULT_QUEUE_NAME}), prints the next
run and exits. Running it again replaces the schedule; it never adds a second one.`,
    run: async (args) => {
      const { values } = parseFlags(args, { queue: { type: 'string' } });
      const config = loadConfigFromProcess();
      const url = requireRedis(config, 'schedule');
      const name = queueName(values.queue);
      const refused = await checkRedis(url, 'schedule');
      if (refused !== null) return refused;
      const queue = (await import('../../io/queue/bullmq-queue.ts')).createBullmqQueue({ redisUrl: url, queueName: name });
      try {
        const next = await scheduleDailyFlow(queue, config.marts.timeZone);
        const zone = config.marts.timeZone;
        const local = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(next);
        process.stdout.write(`daily flow scheduled at 02:00 ${zone} in queue ${name}; next run ${new Date(next).toISOString()} (${local} ${zone})\n`);
      } finally {
        await queue.close();
      }
      return 0;
    },
  },
  backfill: {
    summary: 'Run the daily flow for a date range (idempotent, cancellable, audited)',
    usage: `tidemark backfill --from D1 --to D2 [--steps cold,reconcile,…] [--dry-run] [--full-refresh]
                  [--who NAME] [--run-id ID] [--detach] [--queue NAME]
tidemark backfill --full-refresh [--from D1] [--to D2] [--steps …] [--dry-run] [--who NAME] […]
tidemark backfill --from D1 --to D2 --assume-complete --reason TEXT [--who NAME] […]
tidemark backfill --cancel RUN_ID [--who NAME]
tidemark backfill --resume RUN_ID [--who NAME]
tidemark backfill --list

Runs completeness → cold → reconcile → quality (or the --steps subset, in that order) for every
date from D1 to D2 (YYYY-MM-DD, MART_TIMEZONE), at most JOB_CONCURRENCY steps at once. With
REDIS_URL the run goes to BullMQ and \`tidemark worker\` processes do it (this command waits and
shows progress unless --detach); without it, this process runs it on the in-process queue.
Every attempt is recorded in job_runs (who: --who or your user name). A run prints a table of
every (date, step) and exits 1 when a date failed or the run was cancelled. A step that waits
for a watermark says which one, where it is, what it needs and when it is tried again. Dates
after today (MART_TIMEZONE) are refused. Ctrl-C cancels the run; so does --cancel RUN_ID from
anywhere (an in-process run: its process sees the request in job_runs within seconds). Running
the same range again is a new run and gives the same tables; --run-id makes a retried request
idempotent. An in-process run whose process died is marked abandoned when the next one starts;
--resume RUN_ID runs it again (steps that succeeded are skipped). Without REDIS_URL, failed days
and failed quality checks alert ALERT_WEBHOOK_URL from here (as a worker).
  --dry-run        steps compute and report but change nothing
  --assume-complete  the operator declares the days complete: no step waits for the archive or
                   stream watermark (when no more events will come and the writers are gone);
                   needs --reason, recorded in job_runs with --who
  --full-refresh   first recompute the cold marts of every complete date in the lake and swap each
                   whole cold table atomically (one task; rows of dates no longer in the lake go),
                   then run the other steps per date; --from/--to default to the lake's first
                   date and the last day the archive has completed (at most yesterday)`,
    run: async (args) => {
      const { values } = parseFlags(args, {
        from: { type: 'string' },
        to: { type: 'string' },
        steps: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'full-refresh': { type: 'boolean' },
        who: { type: 'string' },
        'run-id': { type: 'string' },
        detach: { type: 'boolean' },
        queue: { type: 'string' },
        cancel: { type: 'string' },
        resume: { type: 'string' },
        list: { type: 'boolean' },
        'assume-complete': { type: 'boolean' },
        reason: { type: 'string' },
      });
      const who = whoAmI(values.who);
      const steps = parseSteps(values.steps);
      const fullRefresh = values['full-refresh'] === true;
      const cancelling = typeof values.cancel === 'string';
      const resuming = typeof values.resume === 'string';
      const listing = values.list === true;
      const assume = values['assume-complete'] === true;
      if (!cancelling && !resuming && !listing && !fullRefresh && (values.from === undefined || values.to === undefined)) {
        throw new UsageError('--from and --to are required (or --full-refresh, --cancel RUN_ID, --resume RUN_ID, --list)');
      }
      if (assume && (typeof values.reason !== 'string' || values.reason.trim() === '')) throw new UsageError('--assume-complete needs --reason TEXT (it is audited)');
      if (assume && fullRefresh) throw new UsageError('--assume-complete does not apply to --full-refresh (it refreshes the complete dates only)');
      if (values.from !== undefined && values.to !== undefined) {
        try {
          datesBetween(String(values.from), String(values.to));
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      }
      const config = loadConfigFromProcess();
      const name = queueName(values.queue);
      if (config.redis.url !== null) {
        const refused = await checkRedis(config.redis.url, 'backfill');
        if (refused !== null) return refused;
      }
      const queue = config.redis.url === null ? createInProcessQueue() : (await import('../../io/queue/bullmq-queue.ts')).createBullmqQueue({ redisUrl: config.redis.url, queueName: name });
      try {
        const { db, service } = await openJobs(config, queue, true);
        try {
          if (listing) {
            for (const run of await service.listRuns(20)) {
              process.stdout.write(`${run.runId}  ${run.job}  ${run.from}..${run.to}  ${run.outcome}  by ${run.requestedBy}  ${run.startedAt.toISOString()}\n`);
            }
            return 0;
          }
          if (cancelling) {
            const found = await service.cancelRun(String(values.cancel), who);
            const where = config.redis.url === null ? ' (the process running it stops it within seconds)' : '';
            process.stdout.write(found ? `cancelling run ${values.cancel}${where}\n` : `no run ${values.cancel}\n`);
            return found ? 0 : 1;
          }
          if (resuming) {
            if (config.redis.url !== null) throw new UsageError('--resume is for in-process runs (without REDIS_URL); BullMQ runs are resumed by the workers');
            const resumed = await service.resumeRun(String(values.resume), who);
            if (resumed === null) {
              process.stdout.write(`run ${values.resume} is not abandoned: nothing to resume\n`);
              return 1;
            }
            process.stdout.write(`run ${resumed.runId} resumed: ${runPlan(resumed, false)} (in-process)\n`);
            return await runInProcess(service, resumed.runId, who);
          }
          let from = values.from === undefined ? undefined : String(values.from);
          let to = values.to === undefined ? undefined : String(values.to);
          if (fullRefresh && (from === undefined || to === undefined)) {
            const { rows } = await db.query<{ first: string | null }>('SELECT min(event_date)::text AS first FROM lake_days');
            from ??= rows[0]?.first ?? undefined;
            to ??= await lastCompleteDay(db, config.marts.timeZone);
            if (from === undefined) throw new UsageError('--full-refresh: the lake has no dates yet; give --from');
          }
          let started: RunStarted;
          try {
            started = await service.startBackfill({
              from: from as string,
              to: to as string,
              ...(steps === undefined ? {} : { steps }),
              dryRun: values['dry-run'] === true,
              fullRefresh,
              requestedBy: who,
              ...(typeof values['run-id'] === 'string' ? { runId: values['run-id'] } : {}),
              ...(assume ? { assumeComplete: { reason: String(values.reason) } } : {}),
            });
          } catch (error) {
            // A future date, a reversed range, a bad run id: the caller's to fix.
            if (error instanceof RangeError) throw new UsageError(error.message);
            throw error;
          }
          process.stdout.write(`run ${started.runId}: ${runPlan(started, fullRefresh)}${config.redis.url === null ? ' (in-process)' : ''}\n`);
          if (values.detach === true && config.redis.url !== null) return 0;
          if (config.redis.url !== null) {
            const done = await followRun(service, started.runId, who);
            process.stdout.write(`${summaryTable(done)}\n`);
            return done.run.outcome === 'succeeded' ? 0 : 1;
          }
          return await runInProcess(service, started.runId, who);
        } finally {
          await db.close();
        }
      } finally {
        await queue.close();
      }
    },
  },
};

/**
 * The default end of a --full-refresh range: yesterday, or the last day the archive watermark has
 * passed if that is earlier — later days would only wait for the archive, step after step.
 */
async function lastCompleteDay(db: Database, timeZone: string): Promise<string> {
  const yesterday = addDays(localDate(Date.now(), timeZone), -1);
  const watermark = await archiveWatermark(db);
  if (watermark === null || !Number.isFinite(watermark)) return yesterday;
  // The day holding the watermark is not complete yet: the one before it is.
  const complete = addDays(localDate(watermark, timeZone), -1);
  return complete < yesterday ? complete : yesterday;
}

/** What a run will do, in one line. */
function runPlan(started: RunStarted, fullRefresh: boolean): string {
  const days = `${started.dates.length} days × ${started.steps.join(',')}`;
  if (!fullRefresh) return days;
  return started.steps.length === 0 ? `full refresh of the cold marts` : `full refresh of the cold marts, then ${days}`;
}

/**
 * Runs an in-process run here to its end. SIGTERM (a service manager stopping this process) is
 * not a cancel: the running steps are handed back, the run is marked abandoned at once, and
 * `--resume RUN_ID` continues it later.
 */
async function runInProcess(service: JobService, runId: string, who: string): Promise<number> {
  const started = await service.startWorker();
  let closed = false;
  const worker = {
    close: async (graceMs: number): Promise<void> => {
      if (closed) return;
      closed = true;
      await started.close(graceMs);
    },
  };
  const stop = new AbortController();
  const onTerm = (): void => stop.abort();
  process.once('SIGTERM', onTerm);
  try {
    const done = await followRun(service, runId, who, stop.signal);
    process.stdout.write(`${summaryTable(done)}\n`);
    return done.run.outcome === 'succeeded' ? 0 : 1;
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    await worker.close(0);
    await service.abandonOwnRuns('stopped by SIGTERM');
    process.stdout.write(`\nrun ${runId} abandoned (SIGTERM); continue it with \`tidemark backfill --resume ${runId}\`\n`);
    return 1;
  } finally {
    process.removeListener('SIGTERM', onTerm);
    await worker.close(0);
  }
}

/** Waits for a run, drawing progress; the first Ctrl-C cancels the run. */
async function followRun(service: JobService, runId: string, who: string, signal?: AbortSignal): Promise<RunProgress> {
  const tty = process.stdout.isTTY === true;
  const reported = new Set<string>();
  const onInterrupt = (): void => {
    process.stdout.write(`${tty ? '\n' : ''}cancelling run ${runId} (Ctrl-C)\n`);
    void service.cancelRun(runId, who);
  };
  process.once('SIGINT', onInterrupt);
  // With BullMQ nothing happens until a worker takes the steps: say so instead of waiting mutely.
  const idleHint = setTimeout(() => {
    process.stdout.write(`${tty ? '\n' : ''}no step has started yet: is a \`tidemark worker\` running on this queue?\n`);
  }, 15_000);
  idleHint.unref();
  const waitsShown = new Set<string>();
  try {
    const done = await service.waitForRun(runId, {
      ...(signal === undefined ? {} : { signal }),
      onProgress: (progress) => {
        if (progress.stepRuns.length > 0) clearTimeout(idleHint);
        // Each new wait (a new attempt) gets its own line: which step, which watermark, next retry.
        for (const wait of runWaits(progress)) {
          const key = `${wait.date}.${wait.step}.${wait.attempt}`;
          if (waitsShown.has(key)) continue;
          waitsShown.add(key);
          process.stdout.write(`${tty ? '\n' : ''}${describeWait(wait)}\n  ${wait.reason}\n`);
        }
        if (tty) {
          process.stdout.write(`\r${progressLine(progress)}`);
          return;
        }
        for (const date of progress.run.dates) {
          const attempts = progress.stepRuns.filter((s) => s.date === date);
          const finished = progress.run.steps.length > 0 && progress.run.steps.every((step) => attempts.some((s) => s.step === step && s.outcome === 'succeeded'));
          if (finished && !reported.has(date)) {
            reported.add(date);
            process.stdout.write(`${date}  done  ${progressLine(progress)}\n`);
          }
        }
      },
    });
    if (tty) process.stdout.write('\n');
    return done;
  } finally {
    clearTimeout(idleHint);
    process.removeListener('SIGINT', onInterrupt);
  }
}
