// What the four hot-mart computations of one day share: the records grouped by minute and the
// numbering of strings.
import { MINUTE_MS } from '../../marts/window-math.ts';

/** The records grouped by UTC minute (DayRecords.byMinute), with the minute of group 0. */
export interface MinuteGroups {
  readonly firstMinute: number;
  /** Groups 0 … minutes − 1 are minutes; group `minutes` holds the rows after them. */
  readonly minutes: number;
  readonly order: Uint32Array;
  readonly start: Uint32Array;
}

/** The group number of the minute holding ts, clamped to [0, minutes]. */
export function minuteGroupOf(groups: MinuteGroups, ts: number): number {
  const m = Math.floor((ts - groups.firstMinute) / MINUTE_MS);
  return Math.max(0, Math.min(m, groups.minutes));
}
