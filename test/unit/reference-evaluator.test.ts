// Hand-computed cases for every mart of the reference evaluator: the expected rows below were
// worked out on paper from SPEC §4–§5, not by running the code.
import { describe, expect, it } from 'vitest';
import {
  compareDocumentIds,
  dedupeByEventId,
  evaluateColdMarts,
  evaluateHotMarts,
  formatTrendPct,
} from '../../src/marts/reference-evaluator.ts';
import type { ClickEvent, MartSettings } from '../../src/marts/types.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function ev(
  eventId: string,
  eventTs: number,
  sessionId: string,
  documentId: string,
  fields: { title?: string | null; clinicalArea?: string } = {},
): ClickEvent {
  return { eventId, eventTs, sessionId, documentId, title: fields.title ?? null, clinicalArea: fields.clinicalArea ?? 'unknown' };
}

const UTC_SETTINGS: MartSettings = DEFAULT_MART_SETTINGS;

describe('helpers', () => {
  it('formatTrendPct rounds half away from zero on exact integers', () => {
    const cases: [number, number, string | null][] = [
      [9, 8, '12.50'], // 1/8
      [5, 3, '66.67'], // 2/3 growth
      [4, 3, '33.33'],
      [1, 3, '-66.67'],
      [2, 3, '-33.33'],
      [0, 5, '-100.00'],
      [2, 2, '0.00'],
      [3, 2, '50.00'],
      [1, 2, '-50.00'],
      [33, 32, '3.13'], // exactly 3.125
      [31, 32, '-3.13'], // exactly −3.125: away from zero, not toward +∞
      [20201, 20000, '1.01'], // exactly 1.005, which a double reads as 1.00499…
      [19799, 20000, '-1.01'],
      [199_999, 200_000, '0.00'], // −0.0005 rounds to zero and prints without a sign
      [1000, 1, '99900.00'],
      [7, 0, null],
      [0, 0, null],
    ];
    for (const [cur, prev, expected] of cases) expect([cur, prev, formatTrendPct(cur, prev)]).toEqual([cur, prev, expected]);
  });

  it('compareDocumentIds orders like BIGINT, not like strings or doubles', () => {
    const ids = ['9223372036854775807', '100', '20', '18014398509481985', '18014398509481984', '0', '9'];
    expect([...ids].sort(compareDocumentIds)).toEqual([
      '0',
      '9',
      '20',
      '100',
      '18014398509481984',
      '18014398509481985',
      '9223372036854775807',
    ]);
  });

  it('dedupeByEventId keeps the first occurrence in input order', () => {
    const first = ev('a', 1, 's', '1', { title: 'first' });
    const second = ev('a', 2, 's', '1', { title: 'second' });
    const other = ev('b', 3, 's', '1');
    expect(dedupeByEventId([first, other, second])).toEqual([first, other]);
  });
});

describe('evaluateHotMarts', () => {
  const B = Date.UTC(2026, 2, 8, 10); // a whole hour, so every cadence is aligned to it

  it('is empty for no events, and refuses duplicate event_ids', () => {
    expect(evaluateHotMarts([], UTC_SETTINGS)).toEqual({ traffic: [], topDocs: [], clinicalTrend: [], anomalies: [] });
    expect(() => evaluateHotMarts([ev('x', B, 's', '1'), ev('x', B, 's', '1')], UTC_SETTINGS)).toThrow(/duplicate/);
  });

  it('traffic: one row per minute with events, bucketed by date_trunc(minute)', () => {
    const events = [
      ev('e1', B, 's1', '5'),
      ev('e2', B + 59_999, 's1', '6'),
      ev('e3', B + 30 * SECOND, 's2', '5'),
      ev('e4', B + MINUTE, 's2', '5'),
      ev('e5', B + 3 * MINUTE + 10 * SECOND, 's3', '7'),
    ];
    expect(evaluateHotMarts(events, UTC_SETTINGS).traffic).toEqual([
      { eventMinute: B, totalClicks: 3, uniqueSessions: 2, uniqueDocs: 2 },
      { eventMinute: B + MINUTE, totalClicks: 1, uniqueSessions: 1, uniqueDocs: 1 },
      { eventMinute: B + 3 * MINUTE, totalClicks: 1, uniqueSessions: 1, uniqueDocs: 1 },
    ]);
  });

  describe('topDocs', () => {
    const events = [
      ev('a', B + 10 * SECOND, 's1', '10', { title: 'Ten (old)' }),
      ev('b', B + 20 * SECOND, 's2', '10', { title: null }), // latest, but untitled
      ev('c-Zulu', B + 30 * SECOND, 's1', '9', { title: 'Nine Z' }),
      ev('c-alpha', B + 30 * SECOND, 's1', '9', { title: 'Nine a' }), // same ts: 'c-alpha' > 'c-Zulu' in code units
      ev('d', B + 40 * SECOND, 's5', '100', { title: 'Hundred' }),
      ev('e', B + 50 * SECOND, 's4', '20', { title: 'Twenty' }),
      ev('f', B + MINUTE, 's4', '20', { title: null }), // exactly on the next boundary
    ];
    const rows = evaluateHotMarts(events, UTC_SETTINGS).topDocs;
    const at = (t: number): unknown[] => rows.filter((r) => r.snapshotTs === t);

    it('orders by clicks desc, sessions desc, document_id numerically; picks the latest non-null title', () => {
      expect(at(B + MINUTE)).toEqual([
        { snapshotTs: B + MINUTE, rank: 1, documentId: '10', title: 'Ten (old)', clickCount: 2, uniqueSessions: 2 },
        { snapshotTs: B + MINUTE, rank: 2, documentId: '9', title: 'Nine a', clickCount: 2, uniqueSessions: 1 },
        { snapshotTs: B + MINUTE, rank: 3, documentId: '20', title: 'Twenty', clickCount: 1, uniqueSessions: 1 },
        { snapshotTs: B + MINUTE, rank: 4, documentId: '100', title: 'Hundred', clickCount: 1, uniqueSessions: 1 },
      ]);
      expect(at(B + 2 * MINUTE)).toEqual([
        { snapshotTs: B + 2 * MINUTE, rank: 1, documentId: '10', title: 'Ten (old)', clickCount: 2, uniqueSessions: 2 },
        { snapshotTs: B + 2 * MINUTE, rank: 2, documentId: '9', title: 'Nine a', clickCount: 2, uniqueSessions: 1 },
        { snapshotTs: B + 2 * MINUTE, rank: 3, documentId: '20', title: 'Twenty', clickCount: 2, uniqueSessions: 1 },
        { snapshotTs: B + 2 * MINUTE, rank: 4, documentId: '100', title: 'Hundred', clickCount: 1, uniqueSessions: 1 },
      ]);
    });

    it('windows are [T − 1 h, T): a snapshot exists exactly while its window holds an event', () => {
      const instants = [...new Set(rows.map((r) => r.snapshotTs))];
      // From B + 1 min (first event at B + 10 s) to B + 61 min (window [B + 1 min, B + 61 min) holds 'f').
      expect(instants).toEqual(Array.from({ length: 61 }, (_, i) => B + (i + 1) * MINUTE));
      expect(at(B + 60 * MINUTE)).toHaveLength(4);
      expect(at(B + 61 * MINUTE)).toEqual([
        { snapshotTs: B + 61 * MINUTE, rank: 1, documentId: '20', title: null, clickCount: 1, uniqueSessions: 1 },
      ]);
    });

    it('keeps the top 20 only', () => {
      const many = Array.from({ length: 22 }, (_, i) => ev(`m${i}`, B + i, `s${i}`, String(22 - i)));
      const top = evaluateHotMarts(many, UTC_SETTINGS).topDocs.filter((r) => r.snapshotTs === B + MINUTE);
      expect(top.map((r) => r.documentId)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
      expect(top.map((r) => r.rank)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('with newestEventTs, stops at the first boundary strictly after it', () => {
      const two = [ev('p', B + 10 * SECOND, 's', '1'), ev('q', B + 70 * SECOND, 's', '1')];
      const running = evaluateHotMarts(two, UTC_SETTINGS, { newestEventTs: B + 70 * SECOND });
      expect([...new Set(running.topDocs.map((r) => r.snapshotTs))]).toEqual([B + MINUTE, B + 2 * MINUTE]);
      expect([...new Set(running.clinicalTrend.map((r) => r.snapshotTs))]).toEqual([B + 5 * MINUTE]);
      const onBoundary = evaluateHotMarts(two, UTC_SETTINGS, { newestEventTs: B + 2 * MINUTE });
      expect([...new Set(onBoundary.topDocs.map((r) => r.snapshotTs))]).toEqual([B + MINUTE, B + 2 * MINUTE, B + 3 * MINUTE]);
      const bounded = evaluateHotMarts(two, UTC_SETTINGS);
      expect(new Set(bounded.topDocs.map((r) => r.snapshotTs)).size).toBe(61);
      expect(new Set(bounded.clinicalTrend.map((r) => r.snapshotTs)).size).toBe(576); // 48 h of 5-minute steps
    });
  });

  describe('clinicalTrend', () => {
    const T0 = Date.UTC(2026, 2, 9); // multiple of 5 minutes
    const events: ClickEvent[] = [];
    let n = 0;
    // `count` events of `area` starting at `from`, 1 ms apart, cycling over `sessions` sessions.
    const add = (area: string, from: number, count: number, sessions: number): void => {
      for (let i = 0; i < count; i++) {
        events.push(ev(`t${n++}`, from + events.length, `${area}-s${i % sessions}`, '1', { clinicalArea: area }));
      }
    };
    const prevStart = T0 - 48 * HOUR; // the first instant of T0's previous window
    const curStart = T0 - 24 * HOUR; // the first instant of T0's current window
    add('cardiology', prevStart, 8, 8);
    add('cardiology', curStart, 9, 3);
    add('oncology', prevStart, 3, 3);
    add('oncology', curStart, 5, 5);
    add('neurology', prevStart, 3, 1);
    add('neurology', curStart, 4, 2);
    add('pediatrics', prevStart, 3, 3);
    add('pediatrics', curStart, 1, 1);
    add('tropical', prevStart, 2, 2);
    add('new-area', curStart, 2, 1);
    add('flat', prevStart, 2, 2);
    add('flat', curStart, 2, 2);
    add('dermatology', prevStart, 32, 4);
    add('dermatology', curStart, 31, 4);
    add('Zoology', curStart, 1, 1); // upper case sorts before lower case in code-unit order
    const rows = evaluateHotMarts(events, UTC_SETTINGS).clinicalTrend;

    it('compares [T − 24 h, T) with [T − 48 h, T − 24 h), rows for every area in either', () => {
      expect(rows.filter((r) => r.snapshotTs === T0)).toEqual([
        { snapshotTs: T0, clinicalArea: 'Zoology', clickCount: 1, uniqueSessions: 1, trendPct: null },
        { snapshotTs: T0, clinicalArea: 'cardiology', clickCount: 9, uniqueSessions: 3, trendPct: '12.50' },
        { snapshotTs: T0, clinicalArea: 'dermatology', clickCount: 31, uniqueSessions: 4, trendPct: '-3.13' },
        { snapshotTs: T0, clinicalArea: 'flat', clickCount: 2, uniqueSessions: 2, trendPct: '0.00' },
        { snapshotTs: T0, clinicalArea: 'neurology', clickCount: 4, uniqueSessions: 2, trendPct: '33.33' },
        { snapshotTs: T0, clinicalArea: 'new-area', clickCount: 2, uniqueSessions: 1, trendPct: null },
        { snapshotTs: T0, clinicalArea: 'oncology', clickCount: 5, uniqueSessions: 5, trendPct: '66.67' },
        { snapshotTs: T0, clinicalArea: 'pediatrics', clickCount: 1, uniqueSessions: 1, trendPct: '-66.67' },
        { snapshotTs: T0, clinicalArea: 'tropical', clickCount: 0, uniqueSessions: 0, trendPct: '-100.00' },
      ]);
    });

    it('window bounds are inclusive at the start and exclusive at the end', () => {
      // At T0 + 5 min both windows have moved past the events at their starts (all within 1 s).
      const later = rows.filter((r) => r.snapshotTs === T0 + 5 * MINUTE);
      expect(later.find((r) => r.clinicalArea === 'tropical')).toBeUndefined();
      expect(later.find((r) => r.clinicalArea === 'cardiology')).toEqual({
        snapshotTs: T0 + 5 * MINUTE,
        clinicalArea: 'cardiology',
        clickCount: 0,
        uniqueSessions: 0,
        trendPct: '-100.00',
      });
      // At T0 − 24 h the current window is [T0 − 48 h, T0 − 24 h): the "prev" events, and no prev.
      const dayBefore = rows.filter((r) => r.snapshotTs === curStart);
      expect(dayBefore.find((r) => r.clinicalArea === 'cardiology')).toEqual({
        snapshotTs: curStart,
        clinicalArea: 'cardiology',
        clickCount: 8,
        uniqueSessions: 8,
        trendPct: null,
      });
    });

    it('has a snapshot for every 5-minute T whose windows hold an event, and no other', () => {
      const instants = [...new Set(rows.map((r) => r.snapshotTs))];
      // From prevStart + 5 min to curStart + 48 h (the last events, at curStart + <1 s, leave the
      // previous window at the first boundary after curStart + 48 h).
      expect(instants[0]).toBe(prevStart + 5 * MINUTE);
      expect(instants[instants.length - 1]).toBe(curStart + 48 * HOUR);
      expect(instants).toHaveLength((72 * HOUR) / (5 * MINUTE));
    });
  });

  describe('anomalies', () => {
    const settings: MartSettings = { ...UTC_SETTINGS, anomalySpanMs: 1000, anomalyWarning: 3, anomalyCritical: 5 };
    const events = [
      // Session A: crosses at +200 (count 3), peaks at 4, stays ≥ 3 through +1150 ((150, 1150]
      // holds 200, 300, 1150), falls at +1300 ((300, 1300] holds 1150, 1300).
      ev('a1', B, 'A', '1'),
      ev('a2', B + 100, 'A', '1'),
      ev('a3', B + 200, 'A', '1'),
      ev('a4', B + 300, 'A', '1'),
      ev('a5', B + 1150, 'A', '1'),
      ev('a6', B + 1300, 'A', '1'),
      // ... and a second, critical episode: 3 at +5002, 4 at +5003, 5 at +5004.
      ev('a7', B + 5000, 'A', '1'),
      ev('a8', B + 5001, 'A', '1'),
      ev('a9', B + 5002, 'A', '1'),
      ev('aa', B + 5003, 'A', '1'),
      ev('ab', B + 5004, 'A', '1'),
      // Session B: the event at B is exactly one span before +1000, so it does not count there
      // ((B, B + 1000] holds 2 events); the crossing is at +1001.
      ev('b1', B, 'B', '1'),
      ev('b2', B + 500, 'B', '1'),
      ev('b3', B + 1000, 'B', '1'),
      ev('b4', B + 1001, 'B', '1'),
      // Session C: two events share +10; both have count 3, so the episode starts at +10.
      ev('c1', B, 'C', '1'),
      ev('c3', B + 10, 'C', '1'),
      ev('c2', B + 10, 'C', '1'),
      // Session D: three simultaneous events: the first one already has count 3.
      ev('d1', B + 50, 'D', '1'),
      ev('d2', B + 50, 'D', '1'),
      ev('d3', B + 50, 'D', '1'),
      // Session E: never more than 2 within a span.
      ev('e1', B, 'E', '1'),
      ev('e2', B + 999, 'E', '1'),
      ev('e3', B + 1999, 'E', '1'),
    ];

    it('finds each episode with its crossing, extent, peak and severity', () => {
      expect(evaluateHotMarts(events, settings).anomalies).toEqual([
        { detectedTs: B + 10, sessionId: 'C', windowStart: B + 10 - 1000, windowEnd: B + 10, clickCount: 3, severity: 'WARNING' },
        { detectedTs: B + 50, sessionId: 'D', windowStart: B + 50 - 1000, windowEnd: B + 50, clickCount: 3, severity: 'WARNING' },
        { detectedTs: B + 200, sessionId: 'A', windowStart: B + 200 - 1000, windowEnd: B + 1150, clickCount: 4, severity: 'WARNING' },
        { detectedTs: B + 1001, sessionId: 'B', windowStart: B + 1, windowEnd: B + 1001, clickCount: 3, severity: 'WARNING' },
        { detectedTs: B + 5002, sessionId: 'A', windowStart: B + 4002, windowEnd: B + 5004, clickCount: 5, severity: 'CRITICAL' },
      ]);
    });

    it('does not depend on input order', () => {
      const shuffled = [...events].reverse();
      expect(evaluateHotMarts(shuffled, settings).anomalies).toEqual(evaluateHotMarts(events, settings).anomalies);
    });

    it('uses the default thresholds: 49 in a span is nothing, 50 is WARNING, 100 is CRITICAL', () => {
      const burst = (session: string, count: number): ClickEvent[] =>
        Array.from({ length: count }, (_, i) => ev(`${session}-${i}`, B + i * SECOND, session, '1'));
      const rows = evaluateHotMarts([...burst('s49', 49), ...burst('s50', 50), ...burst('s100', 100)], UTC_SETTINGS).anomalies;
      expect(rows).toEqual([
        { detectedTs: B + 49 * SECOND, sessionId: 's100', windowStart: B + 49 * SECOND - 5 * MINUTE, windowEnd: B + 99 * SECOND, clickCount: 100, severity: 'CRITICAL' },
        { detectedTs: B + 49 * SECOND, sessionId: 's50', windowStart: B + 49 * SECOND - 5 * MINUTE, windowEnd: B + 49 * SECOND, clickCount: 50, severity: 'WARNING' },
      ]);
    });
  });
});

describe('evaluateColdMarts', () => {
  const NY: MartSettings = { ...DEFAULT_MART_SETTINGS, timeZone: 'America/New_York' };
  // 2026-11-01 in New York is 25 hours long: 04:00Z (00:00 EDT) to 05:00Z on 11-02 (00:00 EST);
  // 01:00–01:59 happens twice, at 05:xxZ (EDT) and 06:xxZ (EST).
  const x1 = ev('x1', Date.UTC(2026, 10, 1, 3, 59, 59, 999), 's1', '5', { title: 'Five', clinicalArea: 'cardiology' });
  const x2 = ev('x2', Date.UTC(2026, 10, 1, 4), 's1', '5');
  const x3 = ev('x3', Date.UTC(2026, 10, 1, 5, 30), 's1', '6', { title: 'Six', clinicalArea: 'cardiology' });
  const x4 = ev('x4', Date.UTC(2026, 10, 1, 6, 30), 's2', '5', { title: 'Five (new)', clinicalArea: 'cardiology' });
  const x5z = ev('x5-Zulu', Date.UTC(2026, 10, 1, 13), 's2', '6', { title: 'Six Z', clinicalArea: 'oncology' });
  const x5a = ev('x5-alpha', Date.UTC(2026, 10, 1, 13), 's3', '6', { title: 'Six a', clinicalArea: 'oncology' });
  const big = ev('xbig', Date.UTC(2026, 10, 1, 17), 's3', '18014398509481985', { title: 'Big', clinicalArea: 'oncology' });
  const x7 = ev('x7', Date.UTC(2026, 10, 2, 4, 59, 59, 999), 's1', '5');
  const x8 = ev('x8', Date.UTC(2026, 10, 2, 5), 's1', '0', { title: 'Zero' });
  const x4again = { ...x4, title: 'DUP' }; // a later copy of x4: dropped, the first one wins
  const rows = evaluateColdMarts([x8, x7, big, x5a, x5z, x4, x3, x2, x1, x4again], NY);

  it('session analysis per local date; the 25-hour day gives a 89 999 s session', () => {
    expect(rows.sessionAnalysis).toEqual([
      { sessionId: 's1', eventDate: '2026-10-31', clickCount: 1, uniqueDocs: 1, firstClickTs: x1.eventTs, lastClickTs: x1.eventTs, sessionDurationSec: 0 },
      { sessionId: 's1', eventDate: '2026-11-01', clickCount: 3, uniqueDocs: 2, firstClickTs: x2.eventTs, lastClickTs: x7.eventTs, sessionDurationSec: 89_999 },
      { sessionId: 's2', eventDate: '2026-11-01', clickCount: 2, uniqueDocs: 2, firstClickTs: x4.eventTs, lastClickTs: x5z.eventTs, sessionDurationSec: 23_400 },
      { sessionId: 's3', eventDate: '2026-11-01', clickCount: 2, uniqueDocs: 2, firstClickTs: x5a.eventTs, lastClickTs: big.eventTs, sessionDurationSec: 14_400 },
      { sessionId: 's1', eventDate: '2026-11-02', clickCount: 1, uniqueDocs: 1, firstClickTs: x8.eventTs, lastClickTs: x8.eventTs, sessionDurationSec: 0 },
    ]);
  });

  it('daily traffic: the repeated 1 a.m. hour counts as hour 1 and wins the tie with hour 8', () => {
    expect(rows.dailyTraffic).toEqual([
      { eventDate: '2026-10-31', totalEvents: 1, uniqueSessions: 1, uniqueDocuments: 1, peakHour: 23 },
      { eventDate: '2026-11-01', totalEvents: 7, uniqueSessions: 3, uniqueDocuments: 3, peakHour: 1 },
      { eventDate: '2026-11-02', totalEvents: 1, uniqueSessions: 1, uniqueDocuments: 1, peakHour: 0 },
    ]);
  });

  it('clinical areas per date', () => {
    expect(rows.clinicalAreas).toEqual([
      { eventDate: '2026-10-31', clinicalArea: 'cardiology', searchCount: 1, uniqueSessions: 1 },
      { eventDate: '2026-11-01', clinicalArea: 'cardiology', searchCount: 2, uniqueSessions: 2 },
      { eventDate: '2026-11-01', clinicalArea: 'oncology', searchCount: 3, uniqueSessions: 2 },
      { eventDate: '2026-11-01', clinicalArea: 'unknown', searchCount: 2, uniqueSessions: 1 },
      { eventDate: '2026-11-02', clinicalArea: 'unknown', searchCount: 1, uniqueSessions: 1 },
    ]);
  });

  it('popular documents: latest non-null title of the day, ties on event_ts broken by the greater event_id', () => {
    expect(rows.popularDocuments).toEqual([
      { eventDate: '2026-10-31', documentId: '5', title: 'Five', viewCount: 1, uniqueSessions: 1 },
      { eventDate: '2026-11-01', documentId: '5', title: 'Five (new)', viewCount: 3, uniqueSessions: 2 },
      { eventDate: '2026-11-01', documentId: '6', title: 'Six a', viewCount: 3, uniqueSessions: 3 },
      { eventDate: '2026-11-01', documentId: '18014398509481985', title: 'Big', viewCount: 1, uniqueSessions: 1 },
      { eventDate: '2026-11-02', documentId: '0', title: 'Zero', viewCount: 1, uniqueSessions: 1 },
    ]);
  });

  it('the DST-start day 2026-03-08 has 23 hours and no hour 2', () => {
    const day = [
      ev('m1', Date.UTC(2026, 2, 8, 5), 's', '1'), // 00:00 EST
      ev('m2', Date.UTC(2026, 2, 8, 6, 59, 59, 999), 's', '1'), // 01:59:59.999 EST
      ev('m3', Date.UTC(2026, 2, 8, 7), 's', '1'), // 03:00 EDT
      ev('m4', Date.UTC(2026, 2, 8, 7, 30), 's', '1'), // 03:30 EDT
      ev('m5', Date.UTC(2026, 2, 9, 3, 59, 59, 999), 's', '1'), // 23:59:59.999 EDT
    ];
    const cold = evaluateColdMarts(day, NY);
    expect(cold.dailyTraffic).toEqual([
      { eventDate: '2026-03-08', totalEvents: 5, uniqueSessions: 1, uniqueDocuments: 1, peakHour: 3 },
    ]);
    expect(cold.sessionAnalysis[0]?.sessionDurationSec).toBe(23 * 3600 - 1);
  });
});
