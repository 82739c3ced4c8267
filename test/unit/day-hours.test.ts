// DayHours against time-zone.ts's localHour on ordinary, DST and half-hour-transition days.
import { describe, expect, it } from 'vitest';
import { DayHours } from '../../src/batch/day-hours.ts';
import { endOfLocalDay, localHour, startOfLocalDay } from '../../src/marts/time-zone.ts';

const cases: [string, string][] = [
  ['UTC', '2026-05-12'],
  ['America/New_York', '2026-03-08'],
  ['America/New_York', '2026-11-01'],
  ['Australia/Lord_Howe', '2026-10-04'],
  ['Australia/Lord_Howe', '2026-04-05'],
  ['Asia/Kathmandu', '2026-05-12'],
  ['America/Santiago', '2026-09-06'],
];

describe('DayHours', () => {
  it.each(cases)('%s on %s: the same local hour as localHour for every minute and around the edges', (zone, date) => {
    const start = startOfLocalDay(date, zone);
    const end = endOfLocalDay(date, zone);
    const hours = new DayHours(start, end, zone);
    for (let ts = start - 7_200_000; ts < end + 7_200_000; ts += 59_999) expect(hours.localHour(ts)).toBe(localHour(ts, zone));
    for (const ts of [start, start + 1, end - 1, end]) expect(hours.localHour(ts)).toBe(localHour(ts, zone));
  });
});
