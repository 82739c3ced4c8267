// The chart-data mapping of the Superset import test (test/support/superset-chart-data.ts) over
// every chart of the bundle: each one maps, and the query objects have the shapes Superset's
// browser code sends (checked against the real server by test/integration/superset-import.test.ts).
import { describe, expect, it } from 'vitest';
import { readBundleSources } from '../../scripts/build-superset-bundle.ts';
import { chartDataRequest } from '../support/superset-chart-data.ts';
import type { ChartForQuery, ChartQueryObject } from '../support/superset-chart-data.ts';

const charts: ChartForQuery[] = readBundleSources()
  .filter((source) => source.path.startsWith('charts/'))
  .map((source, index) => ({
    id: index + 1,
    sliceName: String(source.doc['slice_name']),
    vizType: String(source.doc['viz_type']),
    datasourceId: 100 + index,
    datasourceType: 'table',
    params: source.doc['params'] as Record<string, unknown>,
  }));

function queryOf(name: string): ChartQueryObject {
  const chart = charts.find((c) => c.sliceName === name);
  if (chart === undefined) throw new Error(`no chart ${name}`);
  const query = chartDataRequest(chart).queries[0];
  if (query === undefined) throw new Error('no query');
  return query;
}

describe('chart-data requests for the bundle', () => {
  it('maps every chart of the bundle', () => {
    expect(charts).toHaveLength(18);
    for (const chart of charts) {
      const request = chartDataRequest(chart);
      expect(request.datasource).toEqual({ id: chart.datasourceId, type: 'table' });
      expect(request.queries).toHaveLength(1);
      expect(request.form_data['slice_id']).toBe(chart.id);
    }
  });

  it('sends a temporal x-axis as a BASE_AXIS column with the time grain, pivoted per x value', () => {
    const query = queryOf('Events per day, all days (MART_TIMEZONE)');
    expect(query.columns).toEqual([
      { expressionType: 'SQL', sqlExpression: 'event_date', label: 'event_date', columnType: 'BASE_AXIS', timeGrain: 'P1D' },
    ]);
    expect(query.metrics).toEqual(['events']);
    expect(query.post_processing.map((p) => p.operation)).toEqual(['pivot', 'flatten']);
  });

  it('turns SQL adhoc filters into extras.where', () => {
    expect(queryOf('Clicks and sessions per minute, newest 6 h (UTC)').extras).toEqual({
      where: "(event_minute > (SELECT max(event_minute) FROM mart_realtime_traffic_minute) - INTERVAL '6 hours')",
    });
    expect(queryOf('Events per day, all days (MART_TIMEZONE)').extras).toEqual({});
  });

  it('asks raw tables for their columns without metrics (no GROUP BY) and in their saved order', () => {
    const query = queryOf('Top 20 documents of the hour, newest snapshot (UTC)');
    expect(query.metrics).toBeUndefined();
    expect(query.columns).toEqual(['rank', 'document_id', 'title', 'click_count', 'unique_sessions']);
    expect(query.orderby).toEqual([['rank', true]]);
    expect(query.row_limit).toBe(20);
  });

  it('orders aggregate tables by their sort metric, descending', () => {
    const query = queryOf('Top 20 documents, newest 7 days (MART_TIMEZONE)');
    expect(query.columns).toEqual(['document_id', 'title']);
    expect(query.metrics).toEqual(['views', 'sessions']);
    expect(query.orderby).toEqual([['views', false]]);
  });

  it('reads distributions from the rollups: bucket rows, and a box of five precomputed percentiles', () => {
    const histogram = queryOf('Session duration, newest 7 days (days in MART_TIMEZONE)');
    expect(histogram.filters).toEqual([{ col: 'measure', op: '==', val: 'duration_sec' }]);
    expect(histogram.metrics).toEqual(['sessions']);
    const box = queryOf('Clicks per session by weekday, newest 28 days (box p25–p75, whiskers p10–p90, MART_TIMEZONE)');
    expect(box.columns).toEqual(['weekday', 'stat']);
    expect(box.post_processing).toEqual([
      { operation: 'boxplot', options: { groupby: ['weekday'], metrics: ['clicks'], whisker_type: 'min/max' } },
    ]);
  });

  it('refuses a viz type it does not know', () => {
    const chart = charts[0];
    if (chart === undefined) throw new Error('no charts');
    expect(() => chartDataRequest({ ...chart, vizType: 'word_cloud' })).toThrow(/no chart-data mapping for viz_type word_cloud/);
  });
});
