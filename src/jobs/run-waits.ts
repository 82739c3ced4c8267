// Waits that explain themselves: which steps of a run are waiting, for which watermark, where it
// is, and when the next attempt comes — read from the not-ready attempts in job_runs, for the
// progress of `tidemark backfill` and of GET /api/job-runs/:id.
import type { RunProgress } from './job-service.ts';

export interface StepWaiting {
  readonly date: string;
  readonly step: string;
  readonly attempt: number;
  /** 'archive' or 'stream' (null: the step did not say). */
  readonly waitingFor: string | null;
  /** The consumer holding the watermark back. */
  readonly waitingOn: string | null;
  /** ISO instants. */
  readonly watermark: string | null;
  readonly neededWatermark: string | null;
  /** null: no attempt left; the day fails when the budget is spent. */
  readonly nextRetryAt: string | null;
  /** The step's own sentence. */
  readonly reason: string;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Steps whose latest attempt is not ready, of a run still running. */
export function runWaits(progress: RunProgress): StepWaiting[] {
  if (progress.run.outcome !== 'running') return [];
  const latest = new Map<string, RunProgress['stepRuns'][number]>();
  for (const s of progress.stepRuns) latest.set(`${s.date}\u0000${s.step}`, s);
  const waits: StepWaiting[] = [];
  for (const s of latest.values()) {
    if (s.outcome !== 'not_ready') continue;
    const d = s.detail ?? {};
    waits.push({
      date: s.date,
      step: s.step,
      attempt: s.attempt,
      waitingFor: text(d['waiting_for']),
      waitingOn: text(d['waiting_on']),
      watermark: text(d['watermark']),
      neededWatermark: text(d['needed_watermark']),
      nextRetryAt: text(d['next_retry_at']),
      reason: s.error ?? '',
    });
  }
  return waits.sort((a, b) => (a.date === b.date ? a.step.localeCompare(b.step) : a.date.localeCompare(b.date)));
}

/** One line per wait, for a terminal. */
export function describeWait(wait: StepWaiting): string {
  const what = wait.waitingFor === null ? 'its input' : `the ${wait.waitingFor} watermark${wait.waitingOn === null ? '' : ` of ${wait.waitingOn}`}`;
  const where = wait.neededWatermark === null ? '' : ` (at ${wait.watermark ?? 'none yet'}, needs ${wait.neededWatermark})`;
  const next = wait.nextRetryAt === null ? 'no retry left' : `next retry ${wait.nextRetryAt}`;
  return `${wait.date} ${wait.step} waits for ${what}${where}; ${next} (attempt ${wait.attempt})`;
}
