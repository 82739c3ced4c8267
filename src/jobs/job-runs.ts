// The job_runs audit (SPEC §6): one row per run (who asked for what range, how it ended) and one
// per step attempt, written by the worker around every step, read by the CLI, the HTTP API and
// the console. The queue's own records are trimmed; these are not.
import type { Database, Queryable } from '../io/db/database.ts';
import type { AssumedComplete } from './day-step.ts';

export type RunKind = 'daily' | 'backfill';
/** abandoned: an in-process run whose process died (job-owner.ts); it can be resumed. */
export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned';
export type StepOutcome = RunOutcome | 'not_ready';

export interface RunSummary {
  readonly runId: string;
  readonly job: RunKind;
  readonly from: string;
  readonly to: string;
  readonly requestedBy: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly outcome: RunOutcome;
  readonly dates: readonly string[];
  readonly steps: readonly string[];
  readonly dryRun: boolean;
  /** A `--full-refresh` run: one run-wide full-refresh step precedes the per-day `steps`. */
  readonly fullRefresh: boolean;
  /** Dates whose chain has ended (succeeded, failed or cancelled). */
  readonly datesSettled: number;
  /** Set once someone asked to cancel: who and when. */
  readonly cancelRequestedBy: string | null;
  /** `--assume-complete`: who declared the days complete, and why. */
  readonly assumeComplete: AssumedComplete | null;
  /** The process running an in-process run (null: a BullMQ run). */
  readonly owner: string | null;
}

export interface StepRun {
  readonly id: string;
  readonly step: string;
  readonly date: string;
  readonly attempt: number;
  readonly requestedBy: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly outcome: StepOutcome;
  readonly error: string | null;
  readonly detail: Readonly<Record<string, unknown>> | null;
}

export interface NewRun {
  readonly runId: string;
  readonly job: RunKind;
  readonly requestedBy: string;
  readonly dates: readonly string[];
  readonly steps: readonly string[];
  readonly dryRun: boolean;
  readonly fullRefresh: boolean;
  readonly assumeComplete?: AssumedComplete;
  /** Only for in-process runs: the one process that can finish them. */
  readonly owner?: string;
}

/** Records a run; false when a run with this id exists already (a repeated request). */
export async function insertRun(db: Queryable, run: NewRun): Promise<boolean> {
  const sorted = [...run.dates].sort();
  const result = await db.query(
    `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, run_id, detail, owner)
     VALUES ($1, NULL, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (run_id) WHERE step IS NULL DO NOTHING`,
    [
      run.job,
      sorted[0],
      sorted[sorted.length - 1],
      run.requestedBy,
      run.runId,
      JSON.stringify({
        dates: sorted,
        steps: run.steps,
        dry_run: run.dryRun,
        full_refresh: run.fullRefresh,
        ...(run.assumeComplete === undefined ? {} : { assume_complete: run.assumeComplete }),
      }),
      run.owner ?? null,
    ],
  );
  return result.rowCount === 1;
}

export interface StepStart {
  readonly job: string;
  readonly runId: string;
  readonly taskId: string;
  readonly step: string;
  readonly date: string;
  /** Last date of a step that spans a range (the full refresh); default `date`. */
  readonly to?: string;
  readonly requestedBy: string;
  readonly attempt: number;
  readonly dryRun: boolean;
  /** The process running the attempt (job-owner.ts). */
  readonly owner?: string;
}

/** Whether this task already succeeded once (its effects are in the database). */
export async function taskSucceeded(db: Queryable, taskId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM job_runs WHERE task_id = $1 AND outcome = 'succeeded'`, [taskId]);
  return rows.length > 0;
}

export async function startStepRun(db: Queryable, start: StepStart): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, run_id, task_id, attempt, detail, owner)
     VALUES ($1, $2, $3, $9, $4, $5, $6, $7, $8, $10) RETURNING id::text`,
    [
      start.job,
      start.step,
      start.date,
      start.requestedBy,
      start.runId,
      start.taskId,
      start.attempt,
      JSON.stringify({ dry_run: start.dryRun }),
      start.to ?? start.date,
      start.owner ?? null,
    ],
  );
  return (rows[0] as { id: string }).id;
}

export async function finishStepRun(
  db: Queryable,
  id: string,
  outcome: Exclude<StepOutcome, 'running'>,
  error: string | null,
  summary: Readonly<Record<string, unknown>> | null,
): Promise<void> {
  await db.query(
    `UPDATE job_runs SET outcome = $2, finished_at = greatest(now(), started_at), error = $3,
            detail = coalesce(detail, '{}'::jsonb) || coalesce($4::jsonb, '{}'::jsonb)
      WHERE id = $1`,
    [id, outcome, error, summary === null ? null : JSON.stringify(summary)],
  );
}

/** The chain key of a run's one chain that is not a date: the full refresh before the per-day chains. */
export const FULL_REFRESH_CHAIN_KEY = 'full-refresh';

/**
 * Records how one date of a run ended and, when it was the last, closes the run row: cancelled if
 * any date was, else failed if any date failed, else succeeded. Idempotent: resolves true only
 * for the call that recorded the date, so a repeated settle (the queue calls it at least once)
 * can tell it must not alert again.
 * The full-refresh chain (FULL_REFRESH_CHAIN_KEY) settles no date of its own: when it succeeded it
 * has enqueued the per-day chains, and they settle their dates; when it failed or was cancelled
 * none was enqueued, so every date of the run ends with its outcome — as does every date of a
 * run without per-day steps once the refresh is done. It resolves true when it recorded any date.
 */
export async function settleRunDate(
  db: Database,
  runId: string,
  date: string,
  outcome: 'succeeded' | 'failed' | 'cancelled',
  error: string | null,
): Promise<boolean> {
  if (date === FULL_REFRESH_CHAIN_KEY) {
    const run = await getRun(db, runId);
    if (run === null || (outcome === 'succeeded' && run.steps.length > 0)) return false;
    let recorded = false;
    for (const day of run.dates) recorded = (await settleRunDate(db, runId, day, outcome, error)) || recorded;
    return recorded;
  }
  return db.transaction(async (tx) => {
    // Dates of one run settle concurrently: lock the run row first, so that the last one to
    // settle counts every other (each statement below then sees the others' commits).
    await tx.query(`SELECT 1 FROM job_runs WHERE run_id = $1 AND step IS NULL FOR UPDATE`, [runId]);
    const recorded = await tx.query(
      `INSERT INTO job_run_days (run_id, event_date, outcome, error) VALUES ($1, $2, $3, $4)
       ON CONFLICT (run_id, event_date) DO NOTHING`,
      [runId, date, outcome, error],
    );
    await tx.query(
      `WITH days AS (
         SELECT count(*) AS settled,
                bool_or(outcome = 'cancelled') AS any_cancelled,
                bool_or(outcome = 'failed') AS any_failed
           FROM job_run_days WHERE run_id = $1)
       UPDATE job_runs r
          SET outcome = CASE WHEN days.any_cancelled THEN 'cancelled' WHEN days.any_failed THEN 'failed' ELSE 'succeeded' END,
              finished_at = greatest(now(), r.started_at)
         FROM days
        WHERE r.run_id = $1 AND r.step IS NULL AND r.outcome = 'running'
          AND days.settled >= jsonb_array_length(r.detail -> 'dates')`,
      [runId],
    );
    return recorded.rowCount === 1;
  });
}

/**
 * Reopens an abandoned run for `owner` (`backfill --resume`): running again, its unsettled days
 * forgotten so that they settle anew. Steps that succeeded are skipped by their task ids.
 */
export async function reopenAbandonedRun(db: Database, runId: string, owner: string, who: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const reopened = await tx.query(
      `UPDATE job_runs SET outcome = 'running', finished_at = NULL, owner = $2,
              detail = detail || jsonb_build_object('resumed_by', $3::text, 'resumed_at', now())
        WHERE run_id = $1 AND step IS NULL AND outcome = 'abandoned'`,
      [runId, owner, who],
    );
    if (reopened.rowCount !== 1) return false;
    await tx.query(`DELETE FROM job_run_days WHERE run_id = $1 AND outcome <> 'succeeded'`, [runId]);
    return true;
  });
}

export async function markCancelRequested(db: Queryable, runId: string, who: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE job_runs SET detail = detail || jsonb_build_object('cancel_requested_by', $2::text, 'cancel_requested_at', now())
      WHERE run_id = $1 AND step IS NULL`,
    [runId, who],
  );
  return result.rowCount === 1;
}

interface RunRow {
  run_id: string;
  job: RunKind;
  range_from: string;
  range_to: string;
  requested_by: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: RunOutcome;
  detail: { dates: string[]; steps: string[]; dry_run: boolean; full_refresh?: boolean; cancel_requested_by?: string; assume_complete?: AssumedComplete };
  settled: number;
  owner: string | null;
}

const RUN_COLUMNS = `r.run_id, r.job, r.range_from::text, r.range_to::text, r.requested_by, r.started_at, r.finished_at,
  r.outcome, r.detail, r.owner, (SELECT count(*)::int FROM job_run_days d WHERE d.run_id = r.run_id) AS settled`;

function toSummary(row: RunRow): RunSummary {
  return {
    runId: row.run_id,
    job: row.job,
    from: row.range_from,
    to: row.range_to,
    requestedBy: row.requested_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome,
    dates: row.detail.dates,
    steps: row.detail.steps,
    dryRun: row.detail.dry_run,
    fullRefresh: row.detail.full_refresh === true,
    datesSettled: row.settled,
    cancelRequestedBy: row.detail.cancel_requested_by ?? null,
    assumeComplete: row.detail.assume_complete ?? null,
    owner: row.owner,
  };
}

/** The newest runs first. */
export async function listRuns(db: Queryable, limit = 50): Promise<RunSummary[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM job_runs r WHERE r.step IS NULL AND r.run_id IS NOT NULL ORDER BY r.started_at DESC, r.id DESC LIMIT $1`,
    [limit],
  );
  return rows.map(toSummary);
}

export async function getRun(db: Queryable, runId: string): Promise<RunSummary | null> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM job_runs r WHERE r.run_id = $1 AND r.step IS NULL`, [runId]);
  return rows[0] === undefined ? null : toSummary(rows[0]);
}

/** Every step attempt of a run, by date, then in the order they started. */
export async function listStepRuns(db: Queryable, runId: string): Promise<StepRun[]> {
  const { rows } = await db.query<{
    id: string;
    step: string;
    date: string;
    attempt: number;
    requested_by: string;
    started_at: Date;
    finished_at: Date | null;
    outcome: StepOutcome;
    error: string | null;
    detail: Record<string, unknown> | null;
  }>(
    `SELECT id::text, step, range_from::text AS date, attempt, requested_by, started_at, finished_at, outcome, error, detail
       FROM job_runs WHERE run_id = $1 AND step IS NOT NULL ORDER BY range_from, started_at, id`,
    [runId],
  );
  return rows.map((row) => ({
    id: row.id,
    step: row.step,
    date: row.date,
    attempt: row.attempt,
    requestedBy: row.requested_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome,
    error: row.error,
    detail: row.detail,
  }));
}
