// What the daily steps need from the outside world, and the small helpers they share.
import type { Database } from '../../io/db/database.ts';
import type { Lake } from '../../io/lake/lake.ts';
import type { IdleRule } from '../../io/mart-store/idle-watermarks.ts';
import type { Logger } from '../../io/log.ts';
import { endOfLocalDay, startOfLocalDay } from '../../marts/time-zone.ts';
import type { MartSettings } from '../../marts/types.ts';
import { DayStepCancelledError } from '../day-step.ts';

export interface DayStepSettings {
  /** config.marts: MART_TIMEZONE and the window settings the hot recompute replays with. */
  readonly marts: MartSettings;
  /** Relative row-count change vs the previous 7 days that warns (quality); default 0.5. */
  readonly rowCountChangeThreshold?: number;
}

export interface DayStepDeps {
  readonly db: Database;
  readonly lake: Lake;
  readonly settings: DayStepSettings;
  readonly log: Logger;
  /** Wall clock, epoch ms (retention cut-offs, durations); tests pin it. */
  readonly clock: () => number;
  /** With Kafka: caught-up, idle consumers count as at wall clock − WATERMARK_DELAY (idle-watermarks.ts). */
  readonly idle?: IdleRule;
}

export interface DayBounds {
  readonly start: number;
  /** Exclusive: the day is [start, end), 23, 24 or 25 hours. */
  readonly end: number;
}

export function dayBounds(date: string, timeZone: string): DayBounds {
  return { start: startOfLocalDay(date, timeZone), end: endOfLocalDay(date, timeZone) };
}

export function throwIfCancelled(signal: AbortSignal, step: string, date: string): void {
  if (signal.aborted) throw new DayStepCancelledError(`${step} of ${date} cancelled; nothing was written`);
}
