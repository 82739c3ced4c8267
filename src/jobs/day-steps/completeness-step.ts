// Step 1 of the daily flow (SPEC §6.1): day D may be computed only once the archive writer's
// watermark has passed the end of D in MART_TIMEZONE. Otherwise the step fails as "not ready"
// and the queue retries it later — a partial day is never computed.
// The watermark counts idleness (src/io/mart-store/idle-watermarks.ts): an archive writer that has
// committed every offset of the topic and been idle for IDLE_PARTITION_TIMEOUT is at wall clock −
// WATERMARK_DELAY, so the last day of a quiet or stopped stream completes. An operator may also
// declare a day complete (`backfill --assume-complete`); the step then records who and why.
import { consumerWatermarks } from '../../io/mart-store/idle-watermarks.ts';
import type { ConsumerWatermark } from '../../io/mart-store/idle-watermarks.ts';
import { DayStepNotReadyError } from '../day-step.ts';
import type { AssumedComplete, DayStep } from '../day-step.ts';
import { dayBounds } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** The archive watermark every archive consumer has passed (min), idleness included; null when there is none. */
export async function effectiveArchiveWatermark(deps: Pick<DayStepDeps, 'db' | 'idle'>): Promise<{ watermark: number; holder: ConsumerWatermark } | null> {
  const all = await consumerWatermarks(deps.db, 'archive', deps.idle);
  let lowest: ConsumerWatermark | undefined;
  for (const w of all) if (lowest === undefined || w.watermark < lowest.watermark) lowest = w;
  return lowest === undefined ? null : { watermark: lowest.watermark, holder: lowest };
}

const HOW_IT_MOVES =
  'it advances with new events, or once the archive writer has committed every offset of the topic and been idle for IDLE_PARTITION_TIMEOUT; ' +
  'if no more events will come, `tidemark backfill --assume-complete --reason …` declares the day complete';

/**
 * Throws DayStepNotReadyError unless the archive is complete for `date` (or an operator assumed
 * it); returns the watermark (the end of the day when assumed) and whether idleness raised it.
 */
export async function assertArchiveComplete(
  deps: Pick<DayStepDeps, 'db' | 'idle'>,
  date: string,
  timeZone: string,
  assumed?: AssumedComplete,
): Promise<{ readonly watermark: number; readonly byIdleness: boolean }> {
  const { end } = dayBounds(date, timeZone);
  if (assumed !== undefined) return { watermark: end, byIdleness: false };
  const found = await effectiveArchiveWatermark(deps);
  if (found === null) {
    throw new DayStepNotReadyError(`archive of ${date} is not complete: no archive watermark yet (has the archive writer run?)`, {
      waitingFor: 'archive',
      consumer: null,
      needed: end,
      current: null,
    });
  }
  const { watermark, holder } = found;
  if (watermark < end) {
    const lag = holder.lag === null || holder.lag === 0 ? '' : `, ${holder.lag} messages not archived yet`;
    throw new DayStepNotReadyError(
      `archive of ${date} is not complete: the archive watermark ${iso(watermark)} (${holder.consumer}${lag}) has not reached the end of the day ${iso(end)} (${timeZone}); ${HOW_IT_MOVES}`,
      { waitingFor: 'archive', consumer: holder.consumer, needed: end, current: watermark },
    );
  }
  return { watermark, byIdleness: holder.idle };
}

export function createCompletenessStep(deps: DayStepDeps): DayStep {
  return async ({ date, assumeComplete }) => {
    const { start, end } = dayBounds(date, deps.settings.marts.timeZone);
    const facts = { day_start: iso(start), day_end: iso(end), day_hours: (end - start) / 3_600_000 };
    if (assumeComplete !== undefined) {
      // Audited with the watermark as it really was.
      const found = await effectiveArchiveWatermark(deps);
      const actual = found === null ? null : iso(found.watermark);
      return { summary: { ...facts, archive_watermark: actual, assumed_complete_by: assumeComplete.by, assumed_complete_reason: assumeComplete.reason } };
    }
    const { watermark, byIdleness } = await assertArchiveComplete(deps, date, deps.settings.marts.timeZone);
    return { summary: { ...facts, archive_watermark: iso(watermark), ...(byIdleness ? { completed_by: 'idleness' } : {}) } };
  };
}
