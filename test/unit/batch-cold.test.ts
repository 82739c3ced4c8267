// The batch path against the reference evaluator on the mart suite: cold marts per event_date
// from batches of 1000 with duplicates re-added, and the hot recompute of the 23-hour DST day.
import { describe, expect, it } from 'vitest';
import { columnsOf } from '../../src/batch/click-columns.ts';
import { ColdDayAccumulator } from '../../src/batch/cold-day-accumulator.ts';
import { HotDayRecompute, hotDayInput, recomputeHotDay } from '../../src/batch/hot-day-recompute.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay, localDate, startOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ClickEvent, ColdMartRows } from '../../src/marts/types.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { hotRowsOfDay } from '../support/hot-rows-of-day.ts';

const suite = buildMartSuite();
const events = suite.expected.allValidEvents;
const zone = suite.settings.timeZone;
const dates = [...new Set(events.map((e) => localDate(e.eventTs, zone)))].sort();
const expectedCold = evaluateColdMarts(events, suite.settings);

/** Every 7th event again, with a different title and area: only the first occurrence may count. */
function withDuplicates(list: readonly ClickEvent[]): ClickEvent[] {
  const copies = list.filter((_, i) => i % 7 === 0).map((e) => ({ ...e, title: 'duplicate copy', clinicalArea: 'duplicate-area' }));
  return [...list, ...copies];
}

function coldOf(date: string): ColdMartRows {
  return {
    sessionAnalysis: expectedCold.sessionAnalysis.filter((r) => r.eventDate === date),
    dailyTraffic: expectedCold.dailyTraffic.filter((r) => r.eventDate === date),
    clinicalAreas: expectedCold.clinicalAreas.filter((r) => r.eventDate === date),
    popularDocuments: expectedCold.popularDocuments.filter((r) => r.eventDate === date),
  };
}

function batchesOf<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

describe('ColdDayAccumulator on the mart suite', () => {
  it('covers three dates, among them the 23-hour 2026-03-08', () => {
    expect(dates).toEqual(['2026-03-07', '2026-03-08', '2026-03-09']);
    expect(endOfLocalDay('2026-03-08', zone) - startOfLocalDay('2026-03-08', zone)).toBe(23 * 3_600_000);
  });

  it.each(dates)('%s equals the reference evaluator row for row', (date) => {
    const acc = new ColdDayAccumulator(date, zone);
    const input = withDuplicates(events);
    for (const batch of batchesOf(input, 1000)) acc.add(batch);
    const rows = acc.rows();
    expect(rows).toEqual(coldOf(date));
    expect(rows.dailyTraffic).toHaveLength(1);
    const ofDay = events.filter((e) => localDate(e.eventTs, zone) === date).length;
    expect(acc.totalEvents).toBe(ofDay);
    expect(acc.ignoredEvents).toBe(input.filter((e) => localDate(e.eventTs, zone) !== date).length);
    // Events of other dates are skipped before dedup, so only the day's re-added copies count.
    expect(acc.duplicateEvents).toBe(input.slice(events.length).filter((e) => localDate(e.eventTs, zone) === date).length);
  });

  it('keeps the first occurrence of a duplicated event_id and the latest non-null title', () => {
    const base = { sessionId: 's', documentId: '7', clinicalArea: 'cardiology' };
    const ts = Date.UTC(2026, 2, 8, 12);
    const acc = new ColdDayAccumulator('2026-03-08', zone);
    acc.add([{ ...base, eventId: 'b', eventTs: ts, title: 'B' }]);
    acc.add([
      { ...base, eventId: 'a', eventTs: ts, title: 'A' }, // same ts, smaller id: not later
      { ...base, eventId: 'b', eventTs: ts + 1, title: 'B again', clinicalArea: 'other' }, // duplicate
      { ...base, eventId: 'c', eventTs: ts + 5000, title: null }, // null titles never win
    ]);
    const rows = acc.rows();
    expect(rows.popularDocuments).toEqual([{ eventDate: '2026-03-08', documentId: '7', title: 'B', viewCount: 3, uniqueSessions: 1 }]);
    expect(rows.clinicalAreas).toEqual([{ eventDate: '2026-03-08', clinicalArea: 'cardiology', searchCount: 3, uniqueSessions: 1 }]);
    expect(rows.sessionAnalysis[0]?.sessionDurationSec).toBe(5);
    expect(rows.dailyTraffic[0]?.peakHour).toBe(8); // 12:00 UTC = 08:00 EDT
    expect(acc.duplicateEvents).toBe(1);
  });

  it('dedups UUID, other ASCII and non-ASCII (fallback) event_ids exactly, across batches', () => {
    // The same suite with its ids rewritten into every storage form of the dedup set; the
    // re-added copies come in later batches (as from later row groups and objects). An uppercase
    // UUID is another id than its lowercase form, so it is a distinct event, not a duplicate.
    const forms = (i: number, id: string): string => {
      const hex = i.toString(16).padStart(32, '0');
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      return [uuid, uuid.toUpperCase(), `é-${id}`, id][i % 4] as string;
    };
    const renamed = events.map((e, i) => ({ ...e, eventId: forms(i, e.eventId) }));
    // Titles tie-break on event_id, so the reference runs on the renamed events too.
    const expected = evaluateColdMarts(renamed, suite.settings);
    for (const date of dates) {
      const acc = new ColdDayAccumulator(date, zone);
      const input = withDuplicates(renamed);
      for (const batch of batchesOf(input, 1000)) acc.add(batch);
      const rows = acc.rows();
      expect(rows.sessionAnalysis).toEqual(expected.sessionAnalysis.filter((r) => r.eventDate === date));
      expect(rows.dailyTraffic).toEqual(expected.dailyTraffic.filter((r) => r.eventDate === date));
      expect(rows.clinicalAreas).toEqual(expected.clinicalAreas.filter((r) => r.eventDate === date));
      expect(rows.popularDocuments).toEqual(expected.popularDocuments.filter((r) => r.eventDate === date));
      expect(acc.totalEvents).toBe(renamed.filter((e) => localDate(e.eventTs, zone) === date).length);
      expect(acc.duplicateEvents).toBe(input.slice(events.length).filter((e) => localDate(e.eventTs, zone) === date).length);
    }
  });

  it('rows() ends the day: a later add() or rows() is refused', () => {
    const acc = new ColdDayAccumulator('2026-03-08', zone);
    acc.add(events.slice(0, 100));
    acc.rows();
    expect(() => acc.add([])).toThrow(/after rows/);
    expect(() => acc.rows()).toThrow(/twice/);
  });

  it.each(dates)('%s: finish() gives rows() in chunks and frees the tallies after the last one', (date) => {
    const acc = new ColdDayAccumulator(date, zone);
    for (const batch of batchesOf(withDuplicates(events), 1000)) acc.add(batch);
    const output = acc.finish(3);
    const expected = coldOf(date);
    const chunks = [...output.sessionChunks];
    expect(chunks.every((c) => c.length > 0 && c.length <= 3)).toBe(true);
    expect(chunks.flat()).toEqual(expected.sessionAnalysis);
    expect(output.sessionCount).toBe(expected.sessionAnalysis.length);
    expect({ dailyTraffic: output.dailyTraffic, clinicalAreas: output.clinicalAreas, popularDocuments: output.popularDocuments }).toEqual({
      dailyTraffic: expected.dailyTraffic,
      clinicalAreas: expected.clinicalAreas,
      popularDocuments: expected.popularDocuments,
    });
    expect(() => acc.finish()).toThrow(/twice/);
  });

  it.each(dates)('%s: addColumns() counts like add()', (date) => {
    const byEvents = new ColdDayAccumulator(date, zone);
    const byColumns = new ColdDayAccumulator(date, zone);
    for (const batch of batchesOf(withDuplicates(events), 1000)) {
      byEvents.add(batch);
      byColumns.addColumns({
        ...columnsOf(batch),
        // As a foreign file may store the unknown area: null or ''.
        clinicalAreas: batch.map((e, i) => (e.clinicalArea === 'unknown' ? (i % 2 === 0 ? null : '') : e.clinicalArea)),
      });
    }
    expect(byColumns.duplicateEvents).toBe(byEvents.duplicateEvents);
    expect(byColumns.ignoredEvents).toBe(byEvents.ignoredEvents);
    expect(byColumns.rows()).toEqual(byEvents.rows());
  });

  it('an empty day has no rows', () => {
    expect(new ColdDayAccumulator('2026-03-10', zone).rows()).toEqual({ sessionAnalysis: [], dailyTraffic: [], clinicalAreas: [], popularDocuments: [] });
  });
});

describe('recomputeHotDay', () => {
  const day = '2026-03-08';
  const start = startOfLocalDay(day, zone);
  const end = endOfLocalDay(day, zone);
  const expectedHot = hotRowsOfDay(evaluateHotMarts(events, suite.settings), start, end);

  it('reads D−2 … D (D−3 when a short day is in between) and D+1 for episodes past midnight', () => {
    const input = hotDayInput(day, suite.settings);
    expect(input.from).toBe(start - 48 * 3_600_000);
    expect(input.requiredDates).toEqual(['2026-03-06', '2026-03-07', '2026-03-08']);
    expect(input.continuationDate).toBe('2026-03-09');
    // 2026-03-08 is 23 h long, so 48 h before the start of 03-09 is still on 03-07 … but 48 h
    // before the start of 03-10 falls on 03-07 23:00, a third calendar day back.
    expect(hotDayInput('2026-03-10', suite.settings).requiredDates).toEqual(['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
  });

  it('2026-03-08 equals the reference evaluator restricted to that local day', () => {
    const rows = recomputeHotDay(batchesOf(withDuplicates(events), 1000), day, suite.settings);
    expect(expectedHot.traffic.length).toBeGreaterThan(0);
    expect(expectedHot.topDocs.length).toBeGreaterThan(0);
    expect(expectedHot.clinicalTrend.length).toBeGreaterThan(0);
    expect(expectedHot.anomalies.length).toBeGreaterThan(0);
    expect(rows).toEqual(expectedHot);
  });

  it('needs only the events from the look-back on, in any order', () => {
    const recompute = new HotDayRecompute(day, suite.settings);
    const { from } = recompute.input;
    // Reversed: the archive is in offset order, not event-time order.
    for (const batch of batchesOf(events.filter((e) => e.eventTs >= from).reverse(), 777)) recompute.add(batch);
    expect(recompute.rows()).toEqual(expectedHot);
  });
});
