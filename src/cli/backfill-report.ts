// What `tidemark backfill` shows: a progress line while a run goes (a bar on a terminal, one
// plain line per finished date otherwise) and a table of every (date, step) at the end.
import { FULL_REFRESH_STEP } from '../jobs/full-refresh-flow.ts';
import type { StepRun } from '../jobs/job-runs.ts';
import type { RunProgress } from '../jobs/job-service.ts';
import { runWaits } from '../jobs/run-waits.ts';

const BAR_WIDTH = 24;

/** One line for the progress bar, without the carriage return. */
export function progressLine(progress: RunProgress): string {
  const { run, stepRuns } = progress;
  // A full refresh is one step for the whole run, before the per-day ones.
  const total = run.dates.length * run.steps.length + (run.fullRefresh ? 1 : 0);
  const done = new Set(stepRuns.filter((s) => s.outcome === 'succeeded').map((s) => `${s.date}.${s.step}`)).size;
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  const failedDays = new Set(stepRuns.filter((s) => s.outcome === 'failed').map((s) => s.date)).size;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} steps, ${run.datesSettled}/${run.dates.length} days` +
    (failedDays > 0 ? `, ${failedDays} with failed attempts` : '') +
    waitingNote(progress);
}

/** ", 1 waiting (next retry …)": the details are printed on their own lines (describeWait). */
function waitingNote(progress: RunProgress): string {
  const waits = runWaits(progress);
  if (waits.length === 0) return '';
  const next = waits.map((w) => w.nextRetryAt).filter((t): t is string => t !== null).sort()[0];
  return `, ${waits.length} waiting${next === undefined ? '' : ` (next retry ${next})`}`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The final table: one line per (date, step) with its last attempt's outcome and duration. */
export function summaryTable(progress: RunProgress): string {
  const { run, stepRuns } = progress;
  const header = ['DATE', 'STEP', 'OUTCOME', 'ATTEMPTS', 'DURATION'];
  const lines: string[][] = [];
  const line = (date: string, step: string, attempts: readonly StepRun[]): string[] => {
    const last = attempts[attempts.length - 1];
    if (last === undefined) return [date, step, 'not run', '0', ''];
    const ms = last.finishedAt === null ? null : last.finishedAt.getTime() - last.startedAt.getTime();
    return [date, step, last.outcome + (last.error === null || last.outcome === 'succeeded' ? '' : `: ${last.error}`), String(attempts.length), ms === null ? '' : duration(ms)];
  };
  if (run.fullRefresh) lines.push(line(`${run.from}..${run.to}`, FULL_REFRESH_STEP, stepRuns.filter((s) => s.step === FULL_REFRESH_STEP)));
  for (const date of run.dates) {
    for (const step of run.steps) lines.push(line(date, step, stepRuns.filter((s) => s.date === date && s.step === step)));
  }
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => (i === 2 ? Math.min((line[i] ?? '').length, 60) : (line[i] ?? '').length))));
  const format = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const took = run.finishedAt === null ? '' : ` in ${duration(run.finishedAt.getTime() - run.startedAt.getTime())}`;
  return [format(header), ...lines.map(format), '', `run ${run.runId}: ${run.outcome}${took}`].join('\n');
}
