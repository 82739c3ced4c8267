// What the HTTP API needs from the job layer (the BullMQ or in-process queue): start a backfill
// or a reconcile and say which job_runs row audits it. Injected, so the server does not depend
// on how jobs run.

export interface BackfillRequest {
  /** First and last event_date, YYYY-MM-DD, inclusive. */
  readonly from: string;
  readonly to: string;
  /** Cold marts to recompute; undefined = all. */
  readonly marts?: readonly string[];
  readonly fullRefresh: boolean;
  /** Who asked, for job_runs.requested_by. */
  readonly requestedBy: string;
}

export interface JobStarted {
  /** job_runs.id of the run (or of its parent run), as text. */
  readonly runId: string;
}

export interface JobControl {
  startBackfill(request: BackfillRequest): Promise<JobStarted>;
  reconcile(date: string, requestedBy: string): Promise<JobStarted>;
}
