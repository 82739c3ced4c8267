// The local hour of instants inside one local day, without a time-zone lookup per event: the
// day spans at most 27 UTC hours, and for each the UTC offset is looked up once. Offsets change
// at most once within any hour (time-zone rules are months apart), so a UTC hour whose first
// and last millisecond share an offset has it throughout; an hour with a transition inside
// (rare: only DST days, and zones whose changes are not on a UTC hour) asks time-zone.ts per event.
import { localHour, utcOffsetMs } from '../marts/time-zone.ts';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

export class DayHours {
  private readonly timeZone: string;
  private readonly firstHour: number;
  /** Per UTC hour of the day: its offset in ms, or NaN when the offset changes inside it. */
  private readonly offsets: Float64Array;

  constructor(dayStart: number, dayEnd: number, timeZone: string) {
    this.timeZone = timeZone;
    this.firstHour = Math.floor(dayStart / MS_PER_HOUR);
    const hours = Math.max(0, Math.ceil(dayEnd / MS_PER_HOUR) - this.firstHour);
    this.offsets = new Float64Array(hours);
    for (let h = 0; h < hours; h++) {
      const start = (this.firstHour + h) * MS_PER_HOUR;
      const before = utcOffsetMs(start, timeZone);
      this.offsets[h] = before === utcOffsetMs(start + MS_PER_HOUR - 1, timeZone) ? before : Number.NaN;
    }
  }

  /** localHour(ts, timeZone), for ts anywhere (outside the day it asks time-zone.ts). */
  localHour(ts: number): number {
    const offset = this.offsets[Math.floor(ts / MS_PER_HOUR) - this.firstHour];
    if (offset === undefined || Number.isNaN(offset)) return localHour(ts, this.timeZone);
    const msOfDay = (((ts + offset) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
    return Math.floor(msOfDay / MS_PER_HOUR);
  }
}
