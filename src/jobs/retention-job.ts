// The retention job as `tidemark retention` and the daily trigger run it: runRetention
// (src/jobs/retention.ts) audited in job_runs like `tidemark reconcile` — who ran it, when, how it
// ended, and the rows deleted (or, on a dry run, that would be) per table.
import type { Queryable } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import { errorText } from '../io/queue/queue-port.ts';
import { runRetention } from './retention.ts';
import type { RetentionOptions, RetentionTable } from './retention.ts';

export const RETENTION_JOB = 'retention';

export async function runAuditedRetention(
  deps: { readonly db: Queryable; readonly clock: () => number; readonly log: Logger },
  options: RetentionOptions & { readonly requestedBy: string },
): Promise<Record<RetentionTable, number>> {
  const { rows } = await deps.db.query<{ id: string }>(
    `INSERT INTO job_runs (job, requested_by, detail) VALUES ($1, $2, $3::jsonb) RETURNING id::text AS id`,
    [RETENTION_JOB, options.requestedBy, JSON.stringify({ dry_run: options.dryRun, hot_retention_days: options.hotRetentionDays })],
  );
  const id = rows[0]?.id;
  const finish = (outcome: 'succeeded' | 'failed', detail: Record<string, unknown>, error: string | null): Promise<unknown> =>
    deps.db.query(
      `UPDATE job_runs SET outcome = $2, finished_at = greatest(now(), started_at), error = $3, detail = detail || $4::jsonb WHERE id = $1::bigint`,
      [id, outcome, error, JSON.stringify(detail)],
    );
  try {
    const counts = await runRetention(deps, options);
    await finish('succeeded', { [options.dryRun ? 'would_delete' : 'deleted']: counts }, null);
    return counts;
  } catch (error) {
    await finish('failed', {}, errorText(error));
    throw error;
  }
}
