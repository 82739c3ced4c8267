// The batch hot recompute against the reference evaluator on random days built to hit its edges:
// clicks on both sides of D's borders (the hour before D, the 24–48 h before it, D+1), sessions
// that cross midnight and burst into anomaly episodes, events sharing a millisecond with
// different titles (the event_id tie-break), duplicates with other fields, and DST days.
import { describe, expect, it } from 'vitest';
import { columnsOf } from '../../src/batch/click-columns.ts';
import { HotDayRecompute, hotDayInput } from '../../src/batch/hot-day-recompute.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay, localDate, startOfLocalDay } from '../../src/marts/time-zone.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import type { ClickEvent, HotMartRows, MartSettings } from '../../src/marts/types.ts';
import { hotRowsOfDay } from '../support/hot-rows-of-day.ts';

/** Mulberry32: a small seeded generator, so that a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;

function randomDay(seed: number, day: string, settings: MartSettings): ClickEvent[] {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const start = startOfLocalDay(day, settings.timeZone);
  const end = endOfLocalDay(day, settings.timeZone);
  const events: ClickEvent[] = [];
  let id = 0;
  const click = (ts: number, sessionId: string): void => {
    const documentId = pick(['1', '2', '3', '10', '11', '200', '9007199254740993', '42']);
    events.push({
      // Ids of varied shape and order: a numeric suffix would order them by creation.
      eventId: `${pick(['a', 'b', 'c'])}-${(id++ * 7919) % 10007}`,
      eventTs: ts,
      sessionId,
      documentId,
      title: rnd() < 0.2 ? null : pick([`doc ${documentId}`, `other ${documentId}`, 'shared']),
      clinicalArea: pick(['cardio', 'onco', 'unknown', 'neuro']),
    });
  };
  // Background clicks over D−2 … D+1, denser around D's borders.
  const sessions = Array.from({ length: 40 }, (_, i) => `s${i}`);
  for (let i = 0; i < 2500; i++) {
    const around = pick([start, end, start - 24 * HOUR, start - 48 * HOUR, start + 12 * HOUR]);
    click(Math.floor(around + (rnd() - 0.5) * 6 * HOUR), pick(sessions));
  }
  // Same-millisecond clicks on one document with different titles.
  for (let i = 0; i < 30; i++) {
    const ts = Math.floor(start + rnd() * (end - start));
    for (let k = 0; k < 3; k++) click(ts, pick(sessions));
  }
  // Bursts: around midnight at both ends of D, and inside it.
  for (const [at, n] of [[start - 3 * MIN, 70], [end - 2 * MIN, 120], [start + 5 * HOUR, 55], [start + 5 * HOUR + 20 * MIN, 60]] as const) {
    const sessionId = `burst-${at}`;
    for (let k = 0; k < n; k++) click(at + Math.floor(rnd() * 4 * MIN), sessionId);
  }
  return events;
}

/** Every 5th event again, its fields changed: archived after the original, it must not count. */
function duplicatesOf(events: readonly ClickEvent[]): ClickEvent[] {
  return events.filter((_, i) => i % 5 === 0).map((e) => ({ ...e, title: 'a duplicate', clinicalArea: 'dup', documentId: '7' }));
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const rnd = random(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function expectedOfDay(events: readonly ClickEvent[], day: string, settings: MartSettings): HotMartRows {
  return hotRowsOfDay(evaluateHotMarts(events, settings), startOfLocalDay(day, settings.timeZone), endOfLocalDay(day, settings.timeZone));
}

/**
 * Reads the events date by date as reconcile does, each date's in shuffled order (the archive is
 * in offset order, not time order), then the duplicates.
 */
function recompute(events: readonly ClickEvent[], duplicates: readonly ClickEvent[], day: string, settings: MartSettings, seed: number): HotMartRows {
  const hot = new HotDayRecompute(day, settings);
  const dates = [...hot.input.requiredDates, hot.input.continuationDate];
  const ofDate = (list: readonly ClickEvent[], date: string): ClickEvent[] =>
    shuffled(
      list.filter((e) => localDate(e.eventTs, settings.timeZone) === date),
      seed,
    );
  for (const date of dates) {
    const archive = [...ofDate(events, date), ...ofDate(duplicates, date)];
    for (let i = 0; i < archive.length; i += 333) hot.add(archive.slice(i, i + 333));
    hot.dateRead(date);
  }
  return hot.rows();
}

const CASES: readonly { readonly name: string; readonly day: string; readonly settings: MartSettings }[] = [
  { name: 'UTC, default cadences', day: '2026-05-12', settings: DEFAULT_MART_SETTINGS },
  {
    name: 'New York, the 23-hour day, 5-minute top docs, 1-hour trend',
    day: '2026-03-08',
    settings: { ...DEFAULT_MART_SETTINGS, timeZone: 'America/New_York', topDocsEveryMs: 5 * MIN, clinicalTrendEveryMs: HOUR },
  },
  {
    name: 'Berlin, the 25-hour day, 2-minute span, low thresholds',
    day: '2026-10-25',
    settings: { ...DEFAULT_MART_SETTINGS, timeZone: 'Europe/Berlin', anomalySpanMs: 2 * MIN, anomalyWarning: 5, anomalyCritical: 9 },
  },
  { name: 'Kathmandu (+05:45), 15-minute trend', day: '2026-07-01', settings: { ...DEFAULT_MART_SETTINGS, timeZone: 'Asia/Kathmandu', clinicalTrendEveryMs: 15 * MIN } },
];

describe('HotDayRecompute against the reference evaluator', () => {
  for (const [n, c] of CASES.entries()) {
    it(c.name, () => {
      const events = randomDay(1000 + n, c.day, c.settings);
      const expected = expectedOfDay(events, c.day, c.settings);
      expect(expected.traffic.length).toBeGreaterThan(100);
      expect(expected.topDocs.length).toBeGreaterThan(100);
      expect(expected.clinicalTrend.length).toBeGreaterThan(10);
      expect(expected.anomalies.length).toBeGreaterThan(0);
      const from = hotDayInput(c.day, c.settings).from;
      const archived = events.filter((e) => e.eventTs >= from);
      expect(recompute(archived, duplicatesOf(archived), c.day, c.settings, n)).toEqual(expected);
    });
  }

  it('an episode detected in D keeps growing with the clicks of D+1', () => {
    const day = '2026-05-12';
    const end = endOfLocalDay(day, 'UTC');
    const burst: ClickEvent[] = Array.from({ length: 150 }, (_, k) => ({
      eventId: `e${k}`,
      eventTs: end - 60_000 + k * 1000,
      sessionId: 'bot',
      documentId: '1',
      title: null,
      clinicalArea: 'unknown',
    }));
    const rows = recompute(burst, [], day, DEFAULT_MART_SETTINGS, 1);
    expect(rows.anomalies).toEqual(expectedOfDay(burst, day, DEFAULT_MART_SETTINGS).anomalies);
    expect(rows.anomalies).toEqual([
      { detectedTs: end - 60_000 + 49_000, sessionId: 'bot', windowStart: end - 60_000 + 49_000 - 300_000, windowEnd: end + 89_000, clickCount: 150, severity: 'CRITICAL' },
    ]);
  });

  it('refuses an event of a date whose objects were all read, and add() after rows()', () => {
    const hot = new HotDayRecompute('2026-05-12', DEFAULT_MART_SETTINGS);
    const event: ClickEvent = { eventId: 'x', eventTs: Date.UTC(2026, 4, 10, 1), sessionId: 's', documentId: '1', title: null, clinicalArea: 'a' };
    hot.dateRead('2026-05-10');
    expect(() => hot.add([event])).toThrow(/an event of 2026-05-10 arrived after that date was read/);
    hot.rows();
    expect(() => hot.add([event])).toThrow(/add\(\) after rows\(\)/);
  });
});

describe('HotDayRecompute.addColumns', () => {
  it('counts like add() (columns as the archive reader decodes them, areas null or empty)', () => {
    const day = '2026-05-12';
    const events = randomDay(77, day, DEFAULT_MART_SETTINGS);
    const byObjects = new HotDayRecompute(day, DEFAULT_MART_SETTINGS);
    byObjects.add(events);
    const byColumns = new HotDayRecompute(day, DEFAULT_MART_SETTINGS);
    byColumns.addColumns({
      ...columnsOf(events),
      clinicalAreas: events.map((e, i) => (e.clinicalArea !== 'unknown' ? e.clinicalArea : i % 2 === 0 ? null : '')),
    });
    expect(byColumns.rows()).toEqual(byObjects.rows());
  });
});
