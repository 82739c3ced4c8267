// Step 4 of the daily flow (SPEC §6.4): the quality checks of D (src/batch/quality-checks.ts) on
// the rows as stored after cold and reconcile, written to quality_results. A 'fail' makes the
// step throw after the results are written, so the job fails and its alert fires; a 'warn'
// (row count far from the previous 7 days) is only recorded.
import { hasFailure, qualityChecks, sessionRollupChecks } from '../../batch/quality-checks.ts';
import type { MartRowCounts, QualityResult } from '../../batch/quality-checks.ts';
import type { Queryable } from '../../io/db/database.ts';
import { coldRowCounts, readColdRows } from '../../io/mart-store/cold-mart-store.ts';
import { hotRowCounts, readHotRows } from '../../io/mart-store/hot-mart-store.ts';
import { sessionRollupTotals } from '../../io/mart-store/session-rollups.ts';
import { addDays } from '../../marts/time-zone.ts';
import type { DayStep } from '../day-step.ts';
import { effectiveArchiveWatermark } from './completeness-step.ts';
import { dayBounds, throwIfCancelled } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

const HISTORY_DAYS = 7;

/** A failed error-level quality check: the job fails (after the results were stored). */
export class QualityCheckFailedError extends Error {
  readonly code = 'QUALITY_CHECK_FAILED';
}

/** Row counts per mart of each of the 7 days before `date` that has any rows, oldest first. */
async function previousRowCounts(db: Queryable, date: string, timeZone: string): Promise<MartRowCounts[]> {
  const dates: string[] = [];
  for (let k = HISTORY_DAYS; k >= 1; k--) dates.push(addDays(date, -k));
  const cold = await coldRowCounts(db, dates);
  const out: MartRowCounts[] = [];
  for (const day of dates) {
    const { start, end } = dayBounds(day, timeZone);
    const hot = await hotRowCounts(db, start, end);
    const counts: Partial<Record<string, number>> = { ...cold.get(day) };
    for (const [table, n] of Object.entries(hot)) if (n > 0) counts[table] = n;
    if (Object.keys(counts).length > 0) out.push(counts);
  }
  return out;
}

/** observed/expected are TEXT columns: instants as ISO text, numbers as they are. */
function asText(result: QualityResult, value: number | null): string | null {
  if (value === null) return null;
  if (result.check === 'archive_freshness') return Number.isFinite(value) ? new Date(value).toISOString() : value > 0 ? 'infinity' : '-infinity';
  return String(value);
}

export async function writeQualityResults(db: Queryable, date: string, results: readonly QualityResult[]): Promise<void> {
  await db.query(
    `INSERT INTO quality_results (check_name, mart, event_date, status, observed, expected)
     SELECT c, m, $1::date, s, o, e FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(c, m, s, o, e)`,
    [
      date,
      results.map((r) => r.check),
      results.map((r) => r.mart),
      results.map((r) => r.status),
      results.map((r) => asText(r, r.observed)),
      results.map((r) => asText(r, r.expected)),
    ],
  );
}

export function createQualityStep(deps: DayStepDeps): DayStep {
  return async ({ date, dryRun, signal, assumeComplete }) => {
    const timeZone = deps.settings.marts.timeZone;
    throwIfCancelled(signal, 'quality', date);
    const { start, end } = dayBounds(date, timeZone);
    // An operator's --assume-complete stands in for the archive watermark (audited in job_runs).
    const watermark = assumeComplete === undefined ? ((await effectiveArchiveWatermark(deps))?.watermark ?? null) : end;
    const results = [
      ...qualityChecks({
      hot: await readHotRows(deps.db, start, end),
      cold: await readColdRows(deps.db, [date]),
      previousRowCounts: await previousRowCounts(deps.db, date, timeZone),
      archive: { watermark: watermark ?? Number.NEGATIVE_INFINITY, dayEnd: end },
      ...(deps.settings.rowCountChangeThreshold === undefined ? {} : { rowCountChangeThreshold: deps.settings.rowCountChangeThreshold }),
      }),
      ...sessionRollupChecks(await sessionRollupTotals(deps.db, date)),
    ];
    if (!dryRun) await writeQualityResults(deps.db, date, results);
    const failed = results.filter((r) => r.status === 'fail');
    const warned = results.filter((r) => r.status === 'warn');
    const summary = { dry_run: dryRun, checks: results.length, passed: results.length - failed.length - warned.length, warned: warned.length, failed: failed.length };
    for (const w of warned) deps.log.warn('quality check warning', { date, check: w.check, mart: w.mart, observed: w.observed, expected: w.expected });
    if (hasFailure(results)) {
      const list = failed.map((f) => `${f.check}(${f.mart}): observed ${asText(f, f.observed)}, expected ${asText(f, f.expected)}`);
      deps.log.error('quality checks failed', { date, failed: list });
      throw new QualityCheckFailedError(`quality checks of ${date} failed: ${list.join('; ')}`);
    }
    deps.log.info('quality checks passed', { date, ...summary });
    return { summary };
  };
}
