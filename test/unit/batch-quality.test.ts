// Quality checks of a day: all pass on the suite's rows of 2026-03-08 (the batch path's own
// output), and a deliberately broken copy fails exactly the checks it breaks, with exact values.
import { describe, expect, it } from 'vitest';
import { ColdDayAccumulator } from '../../src/batch/cold-day-accumulator.ts';
import { recomputeHotDay } from '../../src/batch/hot-day-recompute.ts';
import { hasFailure, martRowCounts, qualityChecks, sessionRollupChecks } from '../../src/batch/quality-checks.ts';
import type { QualityResult } from '../../src/batch/quality-checks.ts';
import { endOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ColdMartRows, HotMartRows } from '../../src/marts/types.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';

const suite = buildMartSuite();
const day = '2026-03-08';
const zone = suite.settings.timeZone;
const dayEnd = endOfLocalDay(day, zone);
const events = suite.expected.allValidEvents;
const hot = recomputeHotDay(events, day, suite.settings);
const accumulator = new ColdDayAccumulator(day, zone);
accumulator.add(events);
const cold = accumulator.rows();
const total = (cold.dailyTraffic[0] as ColdMartRows['dailyTraffic'][number]).totalEvents;
const counts = martRowCounts(hot, cold);

function find(results: readonly QualityResult[], check: string, mart: string): QualityResult {
  const found = results.filter((r) => r.check === check && r.mart === mart);
  expect(found, `${check}/${mart}`).toHaveLength(1);
  return found[0] as QualityResult;
}

describe('qualityChecks', () => {
  it('every check passes on the suite rows of the DST day', () => {
    const results = qualityChecks({ hot, cold, previousRowCounts: Array.from({ length: 7 }, () => counts), archive: { watermark: dayEnd, dayEnd } });
    expect(total).toBe(events.filter((e) => e.eventTs >= dayEnd - 23 * 3_600_000 && e.eventTs < dayEnd).length);
    expect(results).toHaveLength(8 + 8 + 4 + 1 + 8);
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(hasFailure(results)).toBe(false);
    for (const mart of ['mart_realtime_traffic_minute', 'mart_session_analysis', 'mart_clinical_areas', 'mart_popular_documents']) {
      expect(find(results, 'events_match_daily_total', mart)).toMatchObject({ observed: total, expected: total });
    }
    expect(find(results, 'row_count_change', 'mart_session_analysis')).toMatchObject({ observed: counts.mart_session_analysis, expected: counts.mart_session_analysis });
    expect(find(results, 'pk_unique', 'mart_realtime_top_docs_1h')).toMatchObject({ observed: 0, expected: 0 });
  });

  it('without history the row-count check has nothing to expect', () => {
    const results = qualityChecks({ hot, cold });
    expect(find(results, 'row_count_change', 'mart_daily_traffic')).toEqual({ check: 'row_count_change', mart: 'mart_daily_traffic', status: 'pass', observed: 1, expected: null });
    expect(results.some((r) => r.check === 'archive_freshness')).toBe(false);
  });

  it('a broken copy fails exactly what it breaks', () => {
    const firstMinute = hot.traffic[0] as HotMartRows['traffic'][number];
    const lastArea = cold.clinicalAreas[cold.clinicalAreas.length - 1] as ColdMartRows['clinicalAreas'][number];
    const broken: { hot: HotMartRows; cold: ColdMartRows } = {
      hot: { ...hot, traffic: [...hot.traffic, firstMinute] },
      cold: {
        ...cold,
        sessionAnalysis: cold.sessionAnalysis.map((r, i) => (i === 0 || i === 1 ? { ...r, uniqueDocs: -3 } : r)),
        clinicalAreas: cold.clinicalAreas.slice(0, -1),
      },
    };
    // Session rows tripled over the last 7 days: today's count is two thirds below the mean.
    const history = Array.from({ length: 9 }, (_, i) => ({ ...counts, mart_session_analysis: 3 * cold.sessionAnalysis.length + (i % 2) }));
    const results = qualityChecks({ ...broken, previousRowCounts: history, archive: { watermark: dayEnd - 1, dayEnd } });
    const problems = results.filter((r) => r.status !== 'pass');
    // One repeated minute among ~1200 is far below the row-count threshold: it passes there.
    expect(find(results, 'row_count_change', 'mart_realtime_traffic_minute')).toMatchObject({ status: 'pass', observed: hot.traffic.length + 1 });
    // Last 7 of the 9 history days: 4 with +0 and 3 with +1.
    const mean = Math.round((3 * cold.sessionAnalysis.length + 3 / 7) * 100) / 100;
    expect(problems).toEqual([
      { check: 'pk_unique', mart: 'mart_realtime_traffic_minute', status: 'fail', observed: 1, expected: 0 },
      { check: 'no_negatives', mart: 'mart_session_analysis', status: 'fail', observed: 2, expected: 0 },
      { check: 'events_match_daily_total', mart: 'mart_realtime_traffic_minute', status: 'fail', observed: total + firstMinute.totalClicks, expected: total },
      { check: 'events_match_daily_total', mart: 'mart_clinical_areas', status: 'fail', observed: total - lastArea.searchCount, expected: total },
      { check: 'archive_freshness', mart: 'archive', status: 'fail', observed: dayEnd - 1, expected: dayEnd },
      { check: 'row_count_change', mart: 'mart_session_analysis', status: 'warn', observed: counts.mart_session_analysis, expected: mean },
    ]);
    expect(hasFailure(results)).toBe(true);
  });

  it('the row-count threshold is a relative change, exclusive', () => {
    const history = [{ mart_daily_traffic: 2 }];
    const day1 = { hot, cold }; // 1 daily row against a mean of 2: a change of exactly 0.5
    expect(find(qualityChecks({ ...day1, previousRowCounts: history }), 'row_count_change', 'mart_daily_traffic').status).toBe('pass');
    expect(find(qualityChecks({ ...day1, previousRowCounts: history, rowCountChangeThreshold: 0.49 }), 'row_count_change', 'mart_daily_traffic')).toEqual({
      check: 'row_count_change',
      mart: 'mart_daily_traffic',
      status: 'warn',
      observed: 1,
      expected: 2,
    });
  });
});

describe('sessionRollupChecks', () => {
  const status = (results: readonly QualityResult[]): string[] => results.map((r) => `${r.mart}:${r.status}:${String(r.observed)}/${String(r.expected)}`);

  it('passes when every rollup accounts for every session once per measure, and on a day without sessions', () => {
    const full = { mart_session_histogram: [7, 7], mart_session_percentiles: [7, 7], mart_session_clicks: [7] };
    expect(status(sessionRollupChecks({ sessions: 7, totals: full }))).toEqual([
      'mart_session_histogram:pass:7/7',
      'mart_session_percentiles:pass:7/7',
      'mart_session_clicks:pass:7/7',
    ]);
    const none = { mart_session_histogram: [], mart_session_percentiles: [], mart_session_clicks: [] };
    expect(hasFailure(sessionRollupChecks({ sessions: 0, totals: none }))).toBe(false);
  });

  it('fails a rollup that misses sessions, a measure or the whole day, showing the total farthest off', () => {
    const totals = { mart_session_histogram: [7, 5], mart_session_percentiles: [7], mart_session_clicks: [] };
    expect(status(sessionRollupChecks({ sessions: 7, totals }))).toEqual([
      'mart_session_histogram:fail:5/7',
      'mart_session_percentiles:fail:0/7',
      'mart_session_clicks:fail:0/7',
    ]);
  });
});
