// When a daily schedule fires: a wall-clock time in an IANA zone, resolved the way cron (and so
// BullMQ's Job Schedulers) resolves it on DST days — a time that does not exist that day (spring
// forward) fires as late as the gap is long, a time that exists twice (fall back) fires once, at
// its first occurrence. The in-process scheduler uses this; a test pins it to BullMQ's answer.
import { addDays, localDate, utcOffsetMs } from '../../marts/time-zone.ts';

const MS_PER_DAY = 86_400_000;

/** The instant (epoch ms) of hour:minute local time on `date` (YYYY-MM-DD) in timeZone. */
export function localWallTimeToInstant(date: string, hour: number, minute: number, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + (hour * 60 + minute) * 60_000;
  // Transitions are months apart, so the offsets a day before and a day after are the ones on
  // either side of any transition near this wall time.
  const before = utcOffsetMs(wall - MS_PER_DAY, timeZone);
  const after = utcOffsetMs(wall + MS_PER_DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((instant, i) => utcOffsetMs(instant, timeZone) === (i === 0 ? before : after));
  // None valid: the wall time falls in a spring-forward gap; reading it with the offset before
  // the change moves it forward by the gap, as cron does.
  return candidates.length === 0 ? wall - before : Math.min(...candidates);
}

/** The first firing of a daily hour:minute schedule strictly after `afterMs`. */
export function nextDailyRun(afterMs: number, hour: number, minute: number, timeZone: string): number {
  const today = localDate(afterMs, timeZone);
  for (let days = -1; days <= 2; days++) {
    const instant = localWallTimeToInstant(addDays(today, days), hour, minute, timeZone);
    if (instant > afterMs) return instant;
  }
  throw new Error(`no daily run found after ${new Date(afterMs).toISOString()} in ${timeZone}`);
}

/** The date the daily flow works on when it runs at `nowMs`: yesterday in timeZone. */
export function yesterdayIn(nowMs: number, timeZone: string): string {
  return addDays(localDate(nowMs, timeZone), -1);
}
