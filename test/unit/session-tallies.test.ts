// SessionTallies: clicks, first/last click and distinct documents per session, and the
// NEW_DOCUMENT / NEW_AREA answers that count distinct sessions per document and area — also for
// areas numbered past the 32 bits of the per-session mask, and across column growth.
import { describe, expect, it } from 'vitest';
import { NEW_AREA, NEW_DOCUMENT, SessionTallies } from '../../src/batch/session-tallies.ts';

describe('SessionTallies', () => {
  it('tallies a session and says what it touches for the first time', () => {
    const t = new SessionTallies();
    expect(t.click('s1', 500, 3, 0)).toBe(NEW_DOCUMENT | NEW_AREA);
    expect(t.click('s1', 200, 3, 0)).toBe(0);
    expect(t.click('s1', 900, 4, 0)).toBe(NEW_DOCUMENT);
    expect(t.click('s1', 300, 3, 31)).toBe(NEW_AREA); // the mask's sign bit
    expect(t.click('s1', 300, 3, 31)).toBe(0);
    expect(t.click('s1', 400, 4, 40)).toBe(NEW_AREA); // past the mask
    expect(t.click('s1', 400, 4, 40)).toBe(0);
    expect(t.click('s2', 100, 3, 40)).toBe(NEW_DOCUMENT | NEW_AREA); // areas are per session
    expect(t.tally('s1')).toEqual({ clicks: 7, documents: 2, firstTs: 200, lastTs: 900 });
    expect(t.tally('s2')).toEqual({ clicks: 1, documents: 1, firstTs: 100, lastTs: 100 });
    expect([...t.ids()]).toEqual(['s1', 's2']);
    expect(() => t.tally('s3')).toThrow();
    t.release();
    expect(t.size).toBe(0);
  });

  it('keeps every session exact across growth of its columns', () => {
    const t = new SessionTallies();
    const sessions = 50_000;
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < sessions; s++) t.click(`s-${s}`, s * 10 + round, (s + round) % 7, s % 40);
    }
    expect(t.size).toBe(sessions);
    for (const s of [0, 4095, 4096, 6144, 49_999]) {
      expect(t.tally(`s-${s}`)).toEqual({ clicks: 3, documents: 3, firstTs: s * 10, lastTs: s * 10 + 2 });
    }
  });

  it('keeps instants relative to its base, exactly, and refuses what does not fit 32 bits', () => {
    const day = Date.UTC(2026, 4, 12);
    const t = new SessionTallies(day);
    t.click('s', day + 86_399_999, 1, 0);
    t.click('s', day, 2, 0);
    expect(t.tally('s')).toEqual({ clicks: 2, documents: 2, firstTs: day, lastTs: day + 86_399_999 });
    expect(() => t.click('s', day + 2 ** 31, 1, 0)).toThrow(RangeError);
    expect(() => t.click('s', day + 0.5, 1, 0)).toThrow(RangeError);
    expect(t.tally('s').clicks).toBe(2);
  });
});
