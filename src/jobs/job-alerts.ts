// Alerts of the job layer (SPEC §6): a day of a run that failed for good, and the failed quality
// checks that made it fail. Raised from the worker's chain settlement, not from inside a step: a
// step is retried (a failed quality check is recorded again by every attempt), while a chain
// settles once per (run, date) — so each failed job and each failed check alerts exactly once.
import type { Queryable } from '../io/db/database.ts';
import type { AlertNotifier } from '../io/alerts/alert-notifier.ts';
import type { Logger } from '../io/log.ts';
import { FULL_REFRESH_CHAIN_KEY, getRun } from './job-runs.ts';

export interface FailedDay {
  readonly runId: string;
  /** The chain key: the event_date, YYYY-MM-DD, or FULL_REFRESH_CHAIN_KEY for the run-wide refresh. */
  readonly date: string;
  /** The task that ended the chain: `<runId>.<step>.<date>`. */
  readonly taskId: string;
  readonly error: string | null;
}

/** The step named in a day-step task id, or undefined for another task. */
export function stepOfTask(runId: string, taskId: string): string | undefined {
  if (!taskId.startsWith(`${runId}.`)) return undefined;
  const rest = taskId.slice(runId.length + 1);
  const dot = rest.indexOf('.');
  return dot <= 0 ? undefined : rest.slice(0, dot);
}

interface FailedCheckRow {
  check_name: string;
  mart: string | null;
  observed: string | null;
  expected: string | null;
}

/**
 * The checks that failed in the last attempt of a quality task: quality_results rows of the date
 * written since that attempt started (earlier attempts wrote their own copies of the same rows).
 */
async function failedChecksOfLastAttempt(db: Queryable, date: string, taskId: string): Promise<FailedCheckRow[]> {
  const { rows } = await db.query<FailedCheckRow>(
    `SELECT check_name, mart, observed, expected FROM quality_results
      WHERE event_date = $1 AND status = 'fail'
        AND checked_at >= (SELECT max(started_at) FROM job_runs WHERE task_id = $2)
      ORDER BY id`,
    [date, taskId],
  );
  return rows;
}

/** Sends the alerts of one failed day: the job, then each failed quality check behind it. */
export async function alertFailedDay(db: Queryable, notifier: AlertNotifier, failed: FailedDay, log: Logger): Promise<void> {
  try {
    const run = await getRun(db, failed.runId);
    const step = stepOfTask(failed.runId, failed.taskId);
    await notifier.notifyJobFailure({
      job: run?.job ?? 'job',
      step,
      // The full refresh spans the run's whole range.
      from: failed.date === FULL_REFRESH_CHAIN_KEY ? (run?.from ?? failed.date) : failed.date,
      to: failed.date === FULL_REFRESH_CHAIN_KEY ? (run?.to ?? failed.date) : failed.date,
      runId: failed.runId,
      error: failed.error ?? 'unknown error',
    });
    if (step !== 'quality') return;
    for (const check of await failedChecksOfLastAttempt(db, failed.date, failed.taskId)) {
      await notifier.notifyQualityFailure({ check: check.check_name, mart: check.mart, eventDate: failed.date, observed: check.observed, expected: check.expected });
    }
  } catch (error) {
    // An alert must never take the worker down; the failure itself is in job_runs and the log.
    log.warn('could not raise the alerts of a failed day', { run: failed.runId, date: failed.date, error: (error as Error).message });
  }
}
