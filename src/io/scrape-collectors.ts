// Metrics read from the database at scrape time. Job outcomes and durations come from the job_runs
// audit table: whichever process ran a job (a BullMQ worker elsewhere, the in-process scheduler),
// the process serving /metrics counts each run that finished after it started watching, once.
import type { Queryable } from './db/database.ts';
import type { OperatorMetrics, Registry } from './metrics.ts';
import { consumerStatus } from './queries/operator-status.ts';

export function jobRunsCollector(db: Queryable, metrics: OperatorMetrics, options: { sinceMs?: number } = {}): () => Promise<void> {
  let since = new Date(options.sinceMs ?? Date.now()).toISOString();
  let lastId = '0';
  return async () => {
    const { rows } = await db.query<{ id: string; job: string; outcome: string; seconds: string; finished: string }>(
      `SELECT id, job, outcome, extract(epoch FROM (finished_at - started_at))::text AS seconds,
              to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS finished
         FROM job_runs
        WHERE finished_at IS NOT NULL AND (finished_at, id) > ($1::timestamptz, $2::bigint)
        ORDER BY finished_at, id LIMIT 1000`,
      [since, lastId],
    );
    for (const r of rows) {
      metrics.jobRuns.inc({ job: r.job, outcome: r.outcome });
      metrics.jobDuration.observe(Number(r.seconds), { job: r.job });
      since = r.finished;
      lastId = r.id;
    }
  };
}

/**
 * Scrape-time collectors of a process that serves /metrics: checkpoint age per consumer and
 * consumer lag (when the caller can measure it) from the database, and job runs from job_runs.
 */
export function addOperatorCollectors(registry: Registry, db: Queryable, metrics: OperatorMetrics, lag?: () => Promise<number | null>): void {
  registry.addCollector(async () => {
    for (const c of await consumerStatus(db, Date.now())) {
      if (c.checkpoint_age_sec !== null) metrics.checkpointAge.set(c.checkpoint_age_sec, { consumer: c.consumer });
    }
    const value = lag === undefined ? null : await lag();
    if (value !== null) metrics.consumerLag.set(value);
  });
  registry.addCollector(jobRunsCollector(db, metrics));
  registry.addCollector(async () => {
    // The newest report per mart: what the last reconcile had to correct (alert rule: drift ratio).
    const { rows } = await db.query<{ mart: string; compared: number; drift: number }>(
      `SELECT DISTINCT ON (mart) mart, rows_compared AS compared, rows_changed + rows_added + rows_removed AS drift
         FROM reconcile_reports ORDER BY mart, created_at DESC`,
    );
    for (const r of rows) {
      metrics.reconcileDrift.set(Number(r.drift), { mart: r.mart });
      metrics.reconcileCompared.set(Number(r.compared), { mart: r.mart });
    }
  });
}
