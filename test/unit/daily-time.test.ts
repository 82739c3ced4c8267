// The in-process scheduler's next-run computation, on ordinary days and on both DST changes.
import { describe, expect, it } from 'vitest';
import { localWallTimeToInstant, nextDailyRun, yesterdayIn } from '../../src/io/queue/daily-time.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

describe('nextDailyRun at 02:00', () => {
  it('fires at 02:00 local on an ordinary day, the next day once that has passed', () => {
    expect(iso(nextDailyRun(Date.parse('2026-06-10T12:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-06-11T00:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-06-10T23:59:59Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-06-11T00:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-06-11T00:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-06-12T00:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-06-10T12:00:00Z'), 2, 0, 'UTC'))).toBe('2026-06-11T02:00:00.000Z');
  });

  it('spring forward (Berlin, 29 March 2026): 02:00 does not exist; it fires at 03:00 CEST, as cron does', () => {
    expect(iso(nextDailyRun(Date.parse('2026-03-28T12:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-03-29T01:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-03-30T00:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-03-28T12:00:00Z'), 2, 30, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
  });

  it('fall back (Berlin, 25 October 2026): 02:00 happens twice; it fires once, at the first (CEST)', () => {
    expect(iso(nextDailyRun(Date.parse('2026-10-24T12:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-10-25T00:00:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-10-25T00:00:00Z'), 2, 0, 'Europe/Berlin'))).toBe('2026-10-26T01:00:00.000Z');
  });

  it('other zones: New York spring forward, Lord Howe half-hour DST, Kathmandu +05:45', () => {
    expect(iso(nextDailyRun(Date.parse('2026-03-07T12:00:00Z'), 2, 0, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
    // New York falls back at 02:00 EDT to 01:00 EST: the repeated hour is 01:xx, 02:00 is EST.
    expect(iso(nextDailyRun(Date.parse('2026-11-01T00:00:00Z'), 2, 0, 'America/New_York'))).toBe('2026-11-01T07:00:00.000Z');
    // Lord Howe goes from +10:30 to +11 at 02:00 local on 4 October 2026: 02:00 is skipped.
    expect(iso(nextDailyRun(Date.parse('2026-10-03T00:00:00Z'), 2, 0, 'Australia/Lord_Howe'))).toBe('2026-10-03T15:30:00.000Z');
    expect(iso(nextDailyRun(Date.parse('2026-06-10T00:00:00Z'), 2, 0, 'Asia/Kathmandu'))).toBe('2026-06-10T20:15:00.000Z');
  });

  it('resolves wall times and yesterday in the zone', () => {
    expect(iso(localWallTimeToInstant('2026-01-15', 2, 0, 'Europe/Berlin'))).toBe('2026-01-15T01:00:00.000Z');
    expect(yesterdayIn(Date.parse('2026-11-23T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-23');
    expect(yesterdayIn(Date.parse('2026-11-23T23:30:00Z'), 'UTC')).toBe('2026-11-22');
  });
});
