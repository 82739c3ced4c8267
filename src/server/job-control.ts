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
  /** job_runs.run_id of the run: what `tidemark backfill --cancel` and --list show. */
  readonly runId: string;
}

/** The job layer refused the request as given (e.g. a range too long, an unknown mart): HTTP 400. */
export class JobRequestRejected extends Error {
  readonly code = 'JOB_REQUEST_REJECTED';
}

export interface JobControl {
  startBackfill(request: BackfillRequest): Promise<JobStarted>;
  reconcile(date: string, requestedBy: string): Promise<JobStarted>;
}
