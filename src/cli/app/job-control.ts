// The HTTP API's JobControl (src/server/job-control.ts) over the job service: POST /api/backfill
// and /api/reconcile start real runs on whichever queue the process has — the in-process one in
// the demo (its worker runs them at once), BullMQ in `tidemark console` (workers elsewhere run
// them). Every run is audited in job_runs like one started from the CLI.
import type { JobService } from '../../jobs/job-service.ts';
import { coldTables, MART_REGISTRY } from '../../marts/mart-registry.ts';
import type { MartRegistry } from '../../marts/mart-registry.ts';
import { JobRequestRejected } from '../../server/job-control.ts';
import type { JobControl, JobStarted } from '../../server/job-control.ts';

/** The job service's own refusals (a reversed or too long range) are the caller's to fix: 400. */
async function started(run: Promise<{ readonly runId: string }>): Promise<JobStarted> {
  try {
    return { runId: (await run).runId };
  } catch (error) {
    if (error instanceof RangeError) throw new JobRequestRejected(error.message);
    throw error;
  }
}

/** `registry` names the cold marts a request may ask for (default the real one). */
export function jobControlFor(service: JobService, registry: MartRegistry = MART_REGISTRY): JobControl {
  const coldMarts = coldTables(registry);
  return {
    startBackfill(request) {
      const unknown = (request.marts ?? []).filter((mart) => !coldMarts.includes(mart));
      if (unknown.length > 0) {
        return Promise.reject(new JobRequestRejected(`unknown cold mart(s) ${unknown.join(', ')}; expected some of ${coldMarts.join(', ')}`));
      }
      // `marts` is checked but does not narrow the run: the cold step replaces all the cold
      // marts of a day in one transaction (SPEC §6.2, no reader sees a half-loaded day), so a
      // subset is served by recomputing all of them, which gives the asked-for ones the same rows.
      return started(
        service.startBackfill({ from: request.from, to: request.to, fullRefresh: request.fullRefresh, requestedBy: request.requestedBy }),
      );
    },
    reconcile(date, requestedBy) {
      // As `tidemark reconcile --date D`: the whole daily flow for one date (completeness, cold,
      // reconcile, quality), so the reconciled hot rows are checked against fresh cold marts.
      return started(service.startBackfill({ from: date, to: date, requestedBy }));
    },
  };
}
