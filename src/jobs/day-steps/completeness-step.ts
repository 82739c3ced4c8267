// Step 1 of the daily flow (SPEC §6.1): day D may be computed only once the archive writer's
// watermark has passed the end of D in MART_TIMEZONE. Otherwise the step fails as "not ready"
// and the queue retries it later — a partial day is never computed.
import { archiveWatermark } from '../../io/mart-store/watermarks.ts';
import type { Queryable } from '../../io/db/database.ts';
import { DayStepNotReadyError } from '../day-step.ts';
import type { DayStep } from '../day-step.ts';
import { dayBounds } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** Throws DayStepNotReadyError unless the archive is complete for `date`; returns the watermark. */
export async function assertArchiveComplete(db: Queryable, date: string, timeZone: string): Promise<number> {
  const { end } = dayBounds(date, timeZone);
  const watermark = await archiveWatermark(db);
  if (watermark === null) {
    throw new DayStepNotReadyError(`archive of ${date} is not complete: no archive watermark yet (has the archive writer run?)`);
  }
  if (watermark < end) {
    throw new DayStepNotReadyError(
      `archive of ${date} is not complete: the archive watermark ${iso(watermark)} has not reached the end of the day ${iso(end)} (${timeZone})`,
    );
  }
  return watermark;
}

export function createCompletenessStep(deps: DayStepDeps): DayStep {
  return async ({ date }) => {
    const { start, end } = dayBounds(date, deps.settings.marts.timeZone);
    const watermark = await assertArchiveComplete(deps.db, date, deps.settings.marts.timeZone);
    return { summary: { archive_watermark: iso(watermark), day_start: iso(start), day_end: iso(end), day_hours: (end - start) / 3_600_000 } };
  };
}
