// The steps of the daily flow (SPEC §6), as the queue layer sees them: a named function of one
// event_date. The flow runs them in this order per day; a backfill may pick a subset.
// The steps themselves (src/jobs/day-steps/) know the database and the lake; the orchestration
// (BullMQ or in-process) knows only this contract.

export const DAY_STEP_NAMES = ['completeness', 'cold', 'reconcile', 'quality'] as const;
export type DayStepName = (typeof DAY_STEP_NAMES)[number];

export interface DayStepOptions {
  /** YYYY-MM-DD in MART_TIMEZONE. */
  readonly date: string;
  /** Compute and report, change nothing. */
  readonly dryRun: boolean;
  /** Cancellation: a step checks it between chunks and throws DayStepCancelledError. */
  readonly signal: AbortSignal;
  /** Progress in 0..1, for progress bars and job progress. */
  readonly onProgress?: (fraction: number) => void;
  /** An operator declared the day complete (`backfill --assume-complete`): do not wait for watermarks. */
  readonly assumeComplete?: AssumedComplete;
}

/** Who declared a day complete, and why (audited in job_runs). */
export interface AssumedComplete {
  readonly by: string;
  readonly reason: string;
}

/** What a not-ready step waits for, for the progress of a backfill (CLI, API, console). */
export interface StepWait {
  /** The watermark waited for: the archive writer's or a stream consumer's. */
  readonly waitingFor: 'archive' | 'stream';
  /** The consumer holding it back. */
  readonly consumer: string | null;
  /** Epoch ms the watermark must reach (the end of the day). */
  readonly needed: number;
  /** Where it is (null: no watermark yet). */
  readonly current: number | null;
}

export interface DayStepResult {
  /** Short machine-readable facts for job_runs and the console (rows replaced, drift…). */
  readonly summary: Readonly<Record<string, string | number | boolean | null>>;
}

export type DayStep = (options: DayStepOptions) => Promise<DayStepResult>;

/** A step that cannot run yet and should be retried later (e.g. the archive is not complete). */
export class DayStepNotReadyError extends Error {
  readonly code = 'DAY_STEP_NOT_READY';
  readonly wait: StepWait | null;
  constructor(message: string, wait: StepWait | null = null) {
    super(message);
    this.wait = wait;
  }
}

/** A step stopped by its signal; it left the day's tables as they were. */
export class DayStepCancelledError extends Error {
  readonly code = 'DAY_STEP_CANCELLED';
}

/**
 * The run-wide step of `backfill --full-refresh` (SPEC §6): it recomputes every complete date of
 * the lake and swaps each whole cold table, so it runs once per run, not once per date.
 */
export type FullRefreshStep = (options: Omit<DayStepOptions, 'date'>) => Promise<DayStepResult>;
