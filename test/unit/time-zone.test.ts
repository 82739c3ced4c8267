// Local dates and hours against Intl itself, uncached, in zones whose offsets or transitions are
// not whole UTC hours; and the length of DST days.
import { describe, expect, it } from 'vitest';
import {
  addDays,
  endOfLocalDay,
  localDate,
  localHour,
  startOfLocalDay,
  utcOffsetMs,
} from '../../src/marts/time-zone.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

const oracles = new Map<string, Intl.DateTimeFormat>();

/** What Intl says for this very instant, with no offset caching: the oracle for the implementation. */
function intlLocal(ts: number, timeZone: string): { date: string; hour: number } {
  let oracle = oracles.get(timeZone);
  if (oracle === undefined) {
    oracle = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
    });
    oracles.set(timeZone, oracle);
  }
  const parts = oracle.formatToParts(ts);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '?';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')) };
}

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/London',
  'Asia/Kathmandu', // +05:45
  'Asia/Kolkata', // +05:30
  'America/St_Johns', // −03:30 / −02:30
  'Australia/Lord_Howe', // +10:30 / +11:00: a 30-minute DST, starting at 15:30 UTC
  'Pacific/Chatham', // +12:45 / +13:45
  'America/Santiago', // DST starts at midnight
  'Asia/Seoul',
];

describe('localDate / localHour agree with Intl', () => {
  it.each(ZONES)('%s: every 7 minutes through 2026, and around each offset change to the millisecond', (zone) => {
    const start = Date.UTC(2026, 0, 1);
    const end = Date.UTC(2027, 0, 1);
    const mismatches: string[] = [];
    const check = (ts: number): void => {
      const expected = intlLocal(ts, zone);
      const date = localDate(ts, zone);
      const hour = localHour(ts, zone);
      if (date !== expected.date || hour !== expected.hour) {
        mismatches.push(`${new Date(ts).toISOString()}: got ${date} ${hour}, Intl ${expected.date} ${expected.hour}`);
      }
    };
    let previousOffset = utcOffsetMs(start, zone);
    for (let ts = start; ts < end; ts += 7 * MINUTE) {
      check(ts);
      const offset = utcOffsetMs(ts, zone);
      if (offset !== previousOffset) {
        // An offset change happened in (ts − 7 min, ts]: probe that stretch every second and the
        // millisecond either side of every second.
        for (let probe = ts - 7 * MINUTE; probe <= ts; probe += 1000) {
          check(probe - 1);
          check(probe);
        }
        previousOffset = offset;
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('Asia/Kathmandu turns the date at 18:15 UTC', () => {
    const midnight = Date.UTC(2026, 2, 8, 18, 15);
    expect(localDate(midnight - 1, 'Asia/Kathmandu')).toBe('2026-03-08');
    expect(localHour(midnight - 1, 'Asia/Kathmandu')).toBe(23);
    expect(localDate(midnight, 'Asia/Kathmandu')).toBe('2026-03-09');
    expect(localHour(midnight, 'Asia/Kathmandu')).toBe(0);
    expect(utcOffsetMs(midnight, 'Asia/Kathmandu')).toBe(5 * HOUR + 45 * MINUTE);
  });

  it('Australia/Lord_Howe switches to +11:00 at 15:30 UTC, inside a UTC hour', () => {
    const switchAt = Date.UTC(2026, 9, 3, 15, 30); // 2026-10-04 02:00 +10:30 → 02:30 +11:00
    expect(utcOffsetMs(switchAt - 1, 'Australia/Lord_Howe')).toBe(10.5 * HOUR);
    expect(utcOffsetMs(switchAt, 'Australia/Lord_Howe')).toBe(11 * HOUR);
    // Same UTC hour on both sides of the switch: the cache must not serve one offset for it.
    expect(localHour(Date.UTC(2026, 9, 3, 15, 29, 59, 999), 'Australia/Lord_Howe')).toBe(1);
    expect(localHour(Date.UTC(2026, 9, 3, 15, 0), 'Australia/Lord_Howe')).toBe(1);
    expect(localHour(Date.UTC(2026, 9, 3, 15, 45), 'Australia/Lord_Howe')).toBe(2);
    expect(localHour(Date.UTC(2026, 9, 3, 15, 30), 'Australia/Lord_Howe')).toBe(2);
    // And back to +10:30 on 2026-04-05 at 02:00 +11:00 = 15:00 UTC.
    expect(utcOffsetMs(Date.UTC(2026, 3, 4, 14, 59, 59, 999), 'Australia/Lord_Howe')).toBe(11 * HOUR);
    expect(utcOffsetMs(Date.UTC(2026, 3, 4, 15), 'Australia/Lord_Howe')).toBe(10.5 * HOUR);
  });

  it('rejects unknown zones', () => {
    expect(() => localDate(0, 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('local day bounds', () => {
  it('America/New_York: 23-hour 2026-03-08, 25-hour 2026-11-01, 24-hour days around them', () => {
    const zone = 'America/New_York';
    expect(startOfLocalDay('2026-03-08', zone)).toBe(Date.UTC(2026, 2, 8, 5));
    expect(endOfLocalDay('2026-03-08', zone)).toBe(Date.UTC(2026, 2, 9, 4));
    expect(endOfLocalDay('2026-03-08', zone) - startOfLocalDay('2026-03-08', zone)).toBe(23 * HOUR);
    expect(startOfLocalDay('2026-11-01', zone)).toBe(Date.UTC(2026, 10, 1, 4));
    expect(endOfLocalDay('2026-11-01', zone)).toBe(Date.UTC(2026, 10, 2, 5));
    expect(endOfLocalDay('2026-11-01', zone) - startOfLocalDay('2026-11-01', zone)).toBe(25 * HOUR);
    expect(endOfLocalDay('2026-03-07', zone) - startOfLocalDay('2026-03-07', zone)).toBe(24 * HOUR);
    expect(endOfLocalDay('2026-03-07', zone)).toBe(startOfLocalDay('2026-03-08', zone));
  });

  it('the bounds are exact to the millisecond', () => {
    const zone = 'America/New_York';
    const start = startOfLocalDay('2026-11-01', zone);
    const end = endOfLocalDay('2026-11-01', zone);
    expect(localDate(start - 1, zone)).toBe('2026-10-31');
    expect(localDate(start, zone)).toBe('2026-11-01');
    expect(localDate(end - 1, zone)).toBe('2026-11-01');
    expect(localDate(end, zone)).toBe('2026-11-02');
  });

  it('the repeated hour of a 25-hour day is hour 1 both times', () => {
    const zone = 'America/New_York';
    expect(localHour(Date.UTC(2026, 10, 1, 5, 30), zone)).toBe(1); // 01:30 EDT
    expect(localHour(Date.UTC(2026, 10, 1, 6, 30), zone)).toBe(1); // 01:30 EST
    expect(localHour(Date.UTC(2026, 2, 8, 6, 59), zone)).toBe(1); // 01:59 EST
    expect(localHour(Date.UTC(2026, 2, 8, 7), zone)).toBe(3); // 03:00 EDT: 2 o'clock never happens
  });

  it('a day whose midnight does not exist starts at the first instant of that date', () => {
    // America/Santiago: 2026-09-06 00:00 −04:00 becomes 01:00 −03:00.
    expect(startOfLocalDay('2026-09-06', 'America/Santiago')).toBe(Date.UTC(2026, 8, 6, 4));
    expect(localHour(Date.UTC(2026, 8, 6, 4), 'America/Santiago')).toBe(1);
    expect(endOfLocalDay('2026-09-05', 'America/Santiago')).toBe(Date.UTC(2026, 8, 6, 4));
  });

  it('a day that ends by going back over midnight is 25 hours (America/Sao_Paulo, 2018-02-17)', () => {
    // 2018-02-18 00:00 −02:00 became 2018-02-17 23:00 −03:00.
    expect(startOfLocalDay('2018-02-17', 'America/Sao_Paulo')).toBe(Date.UTC(2018, 1, 17, 2));
    expect(endOfLocalDay('2018-02-17', 'America/Sao_Paulo')).toBe(Date.UTC(2018, 1, 18, 3));
  });

  it('half-hour and 45-minute zones', () => {
    expect(startOfLocalDay('2026-03-09', 'Asia/Kathmandu')).toBe(Date.UTC(2026, 2, 8, 18, 15));
    // Lord Howe 2026-10-04 is 23.5 hours long.
    expect(endOfLocalDay('2026-10-04', 'Australia/Lord_Howe') - startOfLocalDay('2026-10-04', 'Australia/Lord_Howe')).toBe(
      23.5 * HOUR,
    );
  });

  it('validates dates', () => {
    expect(() => startOfLocalDay('2026-02-30', 'UTC')).toThrow(RangeError);
    expect(() => startOfLocalDay('2026-3-8', 'UTC')).toThrow(RangeError);
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
  });
});
