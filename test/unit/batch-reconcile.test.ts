// Reconcile's diff: a perturbed copy of the suite's rows of 2026-03-08 against the rows
// themselves must count exactly the perturbed rows, and its upserts/deletes must repair it.
import { describe, expect, it } from 'vitest';
import { diffColdMarts, diffCounts, diffHotMarts, diffRows } from '../../src/batch/reconcile-diff.ts';
import type { MartDiff } from '../../src/batch/reconcile-diff.ts';
import { HOT_MARTS, hotMart, rowKey } from '../../src/marts/mart-registry.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay, startOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ColdMartRows, HotMartRows } from '../../src/marts/types.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { hotRowsOfDay } from '../support/hot-rows-of-day.ts';

const suite = buildMartSuite();
const day = '2026-03-08';
const zone = suite.settings.timeZone;
const start = startOfLocalDay(day, zone);
const end = endOfLocalDay(day, zone);
const allHot = evaluateHotMarts(suite.expected.allValidEvents, suite.settings);
const hot: HotMartRows = hotRowsOfDay(allHot, start, end);
const allCold = evaluateColdMarts(suite.expected.allValidEvents, suite.settings);
const cold: ColdMartRows = {
  sessionAnalysis: allCold.sessionAnalysis.filter((r) => r.eventDate === day),
  dailyTraffic: allCold.dailyTraffic.filter((r) => r.eventDate === day),
  clinicalAreas: allCold.clinicalAreas.filter((r) => r.eventDate === day),
  popularDocuments: allCold.popularDocuments.filter((r) => r.eventDate === day),
};

function countsOf(diff: MartDiff<object>): Omit<ReturnType<typeof diffCounts>, 'mart'> {
  const { mart: _mart, ...rest } = diffCounts(diff);
  return rest;
}

/** Applies a diff's writes to the stored rows, as the reconcile's atomic replace would. */
function repaired<R extends object>(key: (row: R) => string, stored: readonly R[], diff: MartDiff<R>): R[] {
  const table = new Map(stored.map((row) => [key(row), row]));
  for (const row of diff.deletes) table.delete(key(row));
  for (const row of diff.upserts) table.set(key(row), row);
  return [...table.values()];
}

describe('diffRows', () => {
  it('reports nothing for identical rows', () => {
    const diffs = diffHotMarts(hot, hot);
    for (const [name, diff] of Object.entries(diffs)) {
      expect(countsOf(diff), name).toEqual({ rowsCompared: hot[name as keyof HotMartRows].length, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 });
      expect(diff.upserts).toEqual([]);
      expect(diff.deletes).toEqual([]);
    }
    const coldDiffs = diffColdMarts(cold, cold);
    expect(Object.values(coldDiffs).map((d) => d.rowsChanged + d.rowsAdded + d.rowsRemoved)).toEqual([0, 0, 0, 0]);
  });

  it('counts exactly the rows perturbed in a stored copy', () => {
    expect(hot.traffic.length).toBeGreaterThan(10);
    expect(hot.anomalies.length).toBeGreaterThan(1);
    const stored: HotMartRows = {
      // 3 changed (largest change 5), the last 2 missing from storage (added by reconcile).
      traffic: hot.traffic.slice(0, -2).map((r, i) =>
        i === 0 ? { ...r, totalClicks: r.totalClicks + 5 } : i === 1 ? { ...r, uniqueDocs: r.uniqueDocs - 2 } : i === 2 ? { ...r, uniqueSessions: r.uniqueSessions + 1 } : r,
      ),
      // One changed document id (no measure moves) and one stray snapshot row to remove.
      topDocs: [
        ...hot.topDocs.map((r, i) => (i === 3 ? { ...r, documentId: '123456789' } : r)),
        { snapshotTs: end - 60_000, rank: 21, documentId: '1', title: null, clickCount: 1, uniqueSessions: 1 },
      ],
      // trend_pct NULL on one side changes the row but adds no difference; a click count −7.
      clinicalTrend: hot.clinicalTrend.map((r, i) => (i === 0 ? { ...r, trendPct: r.trendPct === null ? '1.00' : null } : i === 1 ? { ...r, clickCount: r.clickCount - 7 } : r)),
      // The first episode never stored, one extra stored episode to delete.
      anomalies: [...hot.anomalies.slice(1), { ...(hot.anomalies[0] as HotMartRows['anomalies'][number]), sessionId: 'ghost-session' }],
    };
    const diffs = diffHotMarts(stored, hot);
    expect(countsOf(diffs.traffic)).toEqual({ rowsCompared: hot.traffic.length, rowsChanged: 3, rowsAdded: 2, rowsRemoved: 0, maxAbsDiff: 5 });
    expect(countsOf(diffs.topDocs)).toEqual({ rowsCompared: hot.topDocs.length + 1, rowsChanged: 1, rowsAdded: 0, rowsRemoved: 1, maxAbsDiff: 0 });
    expect(countsOf(diffs.clinicalTrend)).toEqual({ rowsCompared: hot.clinicalTrend.length, rowsChanged: 2, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 7 });
    expect(countsOf(diffs.anomalies)).toEqual({ rowsCompared: hot.anomalies.length + 1, rowsChanged: 0, rowsAdded: 1, rowsRemoved: 1, maxAbsDiff: 0 });
    expect(diffs.traffic.upserts).toEqual([...hot.traffic.slice(0, 3), ...hot.traffic.slice(-2)]);
    expect(diffs.topDocs.deletes).toEqual([stored.topDocs[stored.topDocs.length - 1]]);
    expect(diffs.anomalies.upserts).toEqual([hot.anomalies[0]]);
    expect(diffs.anomalies.deletes.map((r) => r.sessionId)).toEqual(['ghost-session']);
    expect(diffs.traffic.mart).toBe('mart_realtime_traffic_minute');

    // The writes turn the stored day into the recomputed one.
    const key = (row: object): string => rowKey(HOT_MARTS.traffic, row);
    expect(repaired(key, stored.traffic, diffs.traffic).sort((a, b) => a.eventMinute - b.eventMinute)).toEqual(hot.traffic);
  });

  it('measures trend_pct as a decimal and ignores instants', () => {
    const row = hot.clinicalTrend.find((r) => r.trendPct !== null);
    expect(row).toBeDefined();
    const base = row as HotMartRows['clinicalTrend'][number];
    const moved = { ...base, trendPct: (Number(base.trendPct) + 12.34).toFixed(2) };
    const trendOnly = hotMart<typeof base>({
      kind: 'hot',
      id: 'clinicalTrend',
      table: 'mart_realtime_clinical_trend_24h',
      timeColumn: 'snapshot_ts',
      lock: 'tidemark:clinical_trend',
      key: [{ column: 'clinical_area', field: 'clinicalArea', type: 'text' }],
      values: [{ column: 'trend_pct', field: 'trendPct', type: 'numeric', measure: true }],
    });
    expect(diffRows(trendOnly, [moved], [base]).maxAbsDiff).toBe(12.34);
    const episode = hot.anomalies[0] as HotMartRows['anomalies'][number];
    const diff = diffHotMarts({ ...hot, anomalies: [{ ...episode, windowEnd: episode.windowEnd + 60_000, clickCount: episode.clickCount + 2 }, ...hot.anomalies.slice(1)] }, hot);
    expect(countsOf(diff.anomalies)).toEqual({ rowsCompared: hot.anomalies.length, rowsChanged: 1, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 2 });
  });

  it('cold marts: a changed title is a changed row with no numeric difference', () => {
    const stored: ColdMartRows = { ...cold, popularDocuments: cold.popularDocuments.map((r, i) => (i === 0 ? { ...r, title: 'stale' } : r)) };
    const diffs = diffColdMarts(stored, cold);
    expect(countsOf(diffs.popularDocuments)).toEqual({ rowsCompared: cold.popularDocuments.length, rowsChanged: 1, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 });
    expect(countsOf(diffs.dailyTraffic)).toEqual({ rowsCompared: 1, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 });
  });

  it('refuses input that repeats a primary key', () => {
    expect(() => diffRows(HOT_MARTS.traffic, [hot.traffic[0]!, hot.traffic[0]!], hot.traffic)).toThrow(/stored rows repeat the primary key/);
  });
});
