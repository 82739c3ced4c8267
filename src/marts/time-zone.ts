// Local calendar arithmetic in an IANA time zone (MART_TIMEZONE, SPEC §3): event_date,
// peak_hour and the bounds of a local day, which is 23 or 25 hours long on DST changes.
//
// The platform's Intl.DateTimeFormat is the only source of zone rules. It is slow per call, so
// the UTC offset is cached per UTC hour: offsets change at most once within any hour (tz rules
// are months apart), so an hour whose first and last millisecond share an offset has that
// offset throughout. Transitions do not always fall on a UTC hour boundary (Lord Howe's DST
// starts at 15:30 UTC, and zones like Asia/Kathmandu are offset by 45 minutes), so an hour
// whose two ends disagree stores the exact instant of its transition instead.

const MS_PER_SECOND = 1000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/** One UTC hour of one zone: a constant offset, or a transition at `switchAt` inside the hour. */
type HourOffsets =
  | { readonly kind: 'constant'; readonly offsetMs: number }
  | { readonly kind: 'switch'; readonly switchAt: number; readonly beforeMs: number; readonly afterMs: number };

interface ZoneCache {
  readonly formatter: Intl.DateTimeFormat;
  readonly hours: Map<number, HourOffsets>;
}

// Bounded only by use: a few thousand hours per zone even for a year of data. A clear-all
// beyond this size keeps a long-running process from growing without limit.
const MAX_CACHED_HOURS = 200_000;
const zones = new Map<string, ZoneCache>();

function zoneCache(timeZone: string): ZoneCache {
  let cache = zones.get(timeZone);
  if (cache === undefined) {
    // Throws RangeError for an unknown zone name, which is what a caller should see.
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    cache = { formatter, hours: new Map() };
    zones.set(timeZone, cache);
  }
  return cache;
}

/** Offset (local wall clock − UTC) at ts straight from Intl, whole seconds as tz data has them. */
function intlOffsetMs(formatter: Intl.DateTimeFormat, ts: number): number {
  const wholeSecond = Math.floor(ts / MS_PER_SECOND) * MS_PER_SECOND;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatter.formatToParts(wholeSecond)) {
    const value = Number(part.value);
    if (part.type === 'year') year = value;
    else if (part.type === 'month') month = value;
    else if (part.type === 'day') day = value;
    else if (part.type === 'hour') hour = value;
    else if (part.type === 'minute') minute = value;
    else if (part.type === 'second') second = value;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond;
}

function hourOffsets(cache: ZoneCache, hourIndex: number): HourOffsets {
  const cached = cache.hours.get(hourIndex);
  if (cached !== undefined) return cached;

  const start = hourIndex * MS_PER_HOUR;
  const last = start + MS_PER_HOUR - 1;
  const beforeMs = intlOffsetMs(cache.formatter, start);
  const afterMs = intlOffsetMs(cache.formatter, last);
  let entry: HourOffsets;
  if (beforeMs === afterMs) {
    entry = { kind: 'constant', offsetMs: beforeMs };
  } else {
    // Binary search over whole seconds for the first one with the new offset (tz transitions
    // are on whole seconds): invariant offset(lo) = before, offset(hi) = after.
    let lo = start;
    let hi = last - (last % MS_PER_SECOND);
    while (hi - lo > MS_PER_SECOND) {
      const mid = lo + Math.floor((hi - lo) / (2 * MS_PER_SECOND)) * MS_PER_SECOND;
      if (intlOffsetMs(cache.formatter, mid) === beforeMs) lo = mid;
      else hi = mid;
    }
    entry = { kind: 'switch', switchAt: hi, beforeMs, afterMs };
  }
  if (cache.hours.size >= MAX_CACHED_HOURS) cache.hours.clear();
  cache.hours.set(hourIndex, entry);
  return entry;
}

/** Local wall clock minus UTC at the instant ts, in milliseconds (e.g. −5 h for New York in winter). */
export function utcOffsetMs(ts: number, timeZone: string): number {
  if (!Number.isFinite(ts)) throw new RangeError(`not a finite instant: ${ts}`);
  const entry = hourOffsets(zoneCache(timeZone), Math.floor(ts / MS_PER_HOUR));
  if (entry.kind === 'constant') return entry.offsetMs;
  return ts < entry.switchAt ? entry.beforeMs : entry.afterMs;
}

/** The local calendar date of ts, 'YYYY-MM-DD' (four-digit years, i.e. 0000–9999). */
export function localDate(ts: number, timeZone: string): string {
  // The local wall clock read as if it were UTC: its UTC fields are the local fields.
  return new Date(ts + utcOffsetMs(ts, timeZone)).toISOString().slice(0, 10);
}

/** The local hour of ts, 0–23. On a 25-hour day the repeated hour is the same number twice. */
export function localHour(ts: number, timeZone: string): number {
  const wall = ts + utcOffsetMs(ts, timeZone);
  const msOfDay = ((wall % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  return Math.floor(msOfDay / MS_PER_HOUR);
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses 'YYYY-MM-DD' and rejects dates that do not exist (2026-02-30). Returns midnight UTC of it. */
function dateAsUtcMidnight(date: string): number {
  const match = DATE_PATTERN.exec(date);
  if (match === null) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const midnight = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (new Date(midnight).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`);
  }
  return midnight;
}

/** The calendar date `days` after (or before, when negative) date. */
export function addDays(date: string, days: number): string {
  return new Date(dateAsUtcMidnight(date) + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The first instant (epoch ms) whose local date is `date`. Usually local midnight, but not
 * where DST skips midnight (America/Santiago starts the day at 01:00 then).
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  const wallMidnight = dateAsUtcMidnight(date);
  // Real offsets stay within about ±15 h, so a day starts well inside this bracket:
  // localDate(lo) < date ≤ localDate(hi). Dates are compared as strings, which orders
  // 'YYYY-MM-DD' correctly. The search assumes the local date never goes backwards in time,
  // which holds for every DST rule in use (a backward change crosses at most into the same day).
  let lo = wallMidnight - 36 * MS_PER_HOUR;
  let hi = wallMidnight + 36 * MS_PER_HOUR;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDate(mid, timeZone) < date) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The exclusive end of the local day: the start of the next local date, so a day is
 * [startOfLocalDay, endOfLocalDay) and spans 23, 24 or 25 hours.
 */
export function endOfLocalDay(date: string, timeZone: string): number {
  return startOfLocalDay(addDays(date, 1), timeZone);
}
