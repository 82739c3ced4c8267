// The mart registry: the lists every module used to write by hand are derived from it. A fixture
// registry with a throwaway fifth hot mart and a throwaway cold mart shows each derived list,
// report and check taking them in without any other change; the real registry gives exactly
// today's lists; a registry that would splice a bad name into SQL is refused where it is made.
import { describe, expect, it } from 'vitest';
import { martRowCounts, qualityChecks } from '../../src/batch/quality-checks.ts';
import { diffColdMarts, diffHotMarts, hotMartReports } from '../../src/batch/reconcile-diff.ts';
import { jobControlFor } from '../../src/cli/app/job-control.ts';
import { countColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { keyOrder, selectList } from '../../src/io/mart-store/mart-sql.ts';
import type { JobService } from '../../src/jobs/job-service.ts';
import { retentionTargets } from '../../src/jobs/retention.ts';
import { COLD_MARTS, coldMarts, coldTables, defineRegistry, HOT_MARTS, hotLocks, hotMarts, hotTables, MART_REGISTRY, stagingTables } from '../../src/marts/mart-registry.ts';
import { DAY, FIXTURE, FIXTURE_COLD as cold, FIXTURE_HOT as hot, MINUTE, REFERRERS, WEEKLY } from '../fixtures/extra-marts.ts';

describe('a registry with a fifth hot mart and another cold mart', () => {
  it('derives the table, lock, staging and retention lists with them', () => {
    expect(hotTables(FIXTURE)).toEqual([...hotTables(), 'mart_realtime_referrer_minute']);
    expect(coldTables(FIXTURE)).toEqual([...coldTables(), 'mart_weekly_areas']);
    expect(hotLocks(FIXTURE)).toEqual([...hotLocks(), 'tidemark:referrers']);
    expect(stagingTables(FIXTURE)).toEqual({ ...stagingTables(), mart_weekly_areas: 'cold_refresh_weekly_areas' });
    expect(retentionTargets(FIXTURE).map((t) => `${t.table}.${t.column}:${t.kind}`)).toEqual([
      'mart_realtime_traffic_minute.event_minute:hot',
      'mart_realtime_top_docs_1h.snapshot_ts:hot',
      'mart_realtime_clinical_trend_24h.snapshot_ts:hot',
      'mart_realtime_anomaly_sessions.detected_ts:hot',
      'mart_realtime_referrer_minute.event_minute:hot',
      'dead_letter_events.received_at:dead',
      'late_events.event_ts:dead',
      'anomaly_alerts.raised_at:dead',
    ]);
  });

  it('counts their rows for the quality history and the cold summaries', () => {
    expect(martRowCounts(hot, cold, FIXTURE)).toEqual({
      mart_realtime_traffic_minute: 1,
      mart_realtime_top_docs_1h: 0,
      mart_realtime_clinical_trend_24h: 0,
      mart_realtime_anomaly_sessions: 0,
      mart_realtime_referrer_minute: 2,
      mart_session_analysis: 1,
      mart_daily_traffic: 1,
      mart_clinical_areas: 1,
      mart_popular_documents: 2,
      mart_weekly_areas: 1,
    });
    expect(countColdRows(cold, FIXTURE)).toEqual({
      mart_session_analysis: 1,
      mart_daily_traffic: 1,
      mart_clinical_areas: 1,
      mart_popular_documents: 2,
      mart_weekly_areas: 1,
    });
  });

  it('reconciles them: a diff and a reconcile report each', () => {
    const stored = { ...hot, referrers: [{ eventMinute: MINUTE, referrer: 'search', clicks: 5 }] };
    const diffs = diffHotMarts(stored, hot, FIXTURE);
    expect(Object.keys(diffs)).toEqual(['traffic', 'topDocs', 'clinicalTrend', 'anomalies', 'referrers']);
    expect(diffs.referrers.upserts).toEqual(hot.referrers);
    expect(hotMartReports(diffs, FIXTURE)).toEqual([
      { mart: 'mart_realtime_traffic_minute', rowsCompared: 1, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 },
      { mart: 'mart_realtime_top_docs_1h', rowsCompared: 0, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 },
      { mart: 'mart_realtime_clinical_trend_24h', rowsCompared: 0, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 },
      { mart: 'mart_realtime_anomaly_sessions', rowsCompared: 0, rowsChanged: 0, rowsAdded: 0, rowsRemoved: 0, maxAbsDiff: 0 },
      { mart: 'mart_realtime_referrer_minute', rowsCompared: 2, rowsChanged: 1, rowsAdded: 1, rowsRemoved: 0, maxAbsDiff: 3 },
    ]);
    const coldDiffs = diffColdMarts({ ...cold, weeklyAreas: [] }, cold, FIXTURE);
    expect(coldDiffs.weeklyAreas).toMatchObject({ mart: 'mart_weekly_areas', rowsCompared: 1, rowsAdded: 1 });
  });

  it('checks their keys, signs, row counts and event sums', () => {
    const broken = { ...hot, referrers: [...hot.referrers, { eventMinute: MINUTE, referrer: 'email', clicks: -1 }] };
    const results = qualityChecks({ hot: broken, cold, registry: FIXTURE });
    expect(results.filter((r) => r.mart === 'mart_realtime_referrer_minute')).toEqual([
      { check: 'pk_unique', mart: 'mart_realtime_referrer_minute', status: 'fail', observed: 1, expected: 0 },
      { check: 'no_negatives', mart: 'mart_realtime_referrer_minute', status: 'fail', observed: 1, expected: 0 },
      // 2 + 1 − 1 clicks against the day's 3 events.
      { check: 'events_match_daily_total', mart: 'mart_realtime_referrer_minute', status: 'fail', observed: 2, expected: 3 },
      { check: 'row_count_change', mart: 'mart_realtime_referrer_minute', status: 'pass', observed: 3, expected: null },
    ]);
    expect(results.filter((r) => r.mart === 'mart_weekly_areas').map((r) => `${r.check}:${r.status}`)).toEqual([
      'pk_unique:pass',
      'no_negatives:pass',
      'row_count_change:pass',
    ]);
    expect(qualityChecks({ hot, cold, registry: FIXTURE }).filter((r) => r.status !== 'pass')).toEqual([]);
  });

  it('reads and writes them through SQL built from their columns', () => {
    expect(selectList(REFERRERS)).toBe('(extract(epoch from event_minute) * 1000)::float8 AS event_minute, referrer, clicks');
    expect(keyOrder(REFERRERS)).toBe('mart_realtime_referrer_minute.event_minute, mart_realtime_referrer_minute.referrer COLLATE "C"');
    expect(selectList(WEEKLY)).toBe('event_date::text AS event_date, clinical_area, week_clicks, top_document_id::text AS top_document_id, top_title');
  });

  it('accepts the new cold mart in a backfill request of the job API', async () => {
    const started: string[] = [];
    const service = {
      startBackfill: (request: { readonly from: string }) => {
        started.push(request.from);
        return Promise.resolve({ runId: 'r1', dates: [request.from], steps: [], created: true });
      },
    } as unknown as JobService;
    const request = { from: DAY, to: DAY, marts: ['mart_weekly_areas'], fullRefresh: false, requestedBy: 'test' };
    await expect(jobControlFor(service).startBackfill(request)).rejects.toThrow(/unknown cold mart\(s\) mart_weekly_areas/);
    await expect(jobControlFor(service, FIXTURE).startBackfill(request)).resolves.toEqual({ runId: 'r1' });
    expect(started).toEqual([DAY]);
  });
});

describe('the real registry', () => {
  it('keys each mart by its id and gives the lists the modules wrote by hand before', () => {
    for (const [id, mart] of Object.entries({ ...HOT_MARTS, ...COLD_MARTS })) expect(mart.id).toBe(id);
    expect(hotTables()).toEqual(['mart_realtime_traffic_minute', 'mart_realtime_top_docs_1h', 'mart_realtime_clinical_trend_24h', 'mart_realtime_anomaly_sessions']);
    expect(coldTables()).toEqual(['mart_session_analysis', 'mart_daily_traffic', 'mart_clinical_areas', 'mart_popular_documents']);
    // The sink's lock names of before: a sink and a reconcile of different versions still exclude each other.
    expect(hotLocks()).toEqual(['tidemark:traffic', 'tidemark:top_docs', 'tidemark:clinical_trend', 'tidemark:anomaly_sessions']);
    expect(MART_REGISTRY.coldLock).toBe('tidemark:cold-marts');
    expect(stagingTables()).toEqual({
      mart_session_analysis: 'cold_refresh_session_analysis',
      mart_daily_traffic: 'cold_refresh_daily_traffic',
      mart_clinical_areas: 'cold_refresh_clinical_areas',
      mart_popular_documents: 'cold_refresh_popular_documents',
    });
    // Only the sessions' table went without computed_at (db/migrations/050).
    expect(coldMarts().filter((m) => !m.computedAt).map((m) => m.table)).toEqual(['mart_session_analysis']);
    // RETENTION_TARGETS' exact list: test/integration/retention-cli.test.ts, through the command's output.
  });
});

describe('defineRegistry', () => {
  const base = { marts: [...hotMarts(), ...coldMarts()], coldLock: 'x' };

  it('refuses names that are not plain identifiers, repeats, misplaced kinds and a missing day total', () => {
    expect(() => defineRegistry({ ...base, marts: [...base.marts, { ...WEEKLY, table: 'mart_x; DROP TABLE job_runs' }] })).toThrow(/"mart_x; DROP TABLE job_runs" is not a plain SQL identifier/);
    expect(() => defineRegistry({ ...base, marts: [...base.marts, { ...WEEKLY, staging: 'Staging' }] })).toThrow(/"Staging" is not a plain SQL identifier/);
    expect(() => defineRegistry({ ...base, marts: [...base.marts, { ...REFERRERS }] })).toThrow(/hot mart mart_realtime_referrer_minute after a cold one/);
    expect(() => defineRegistry({ ...base, marts: [REFERRERS, ...base.marts, { ...WEEKLY, key: [] }] })).toThrow(/mart_weekly_areas has no key/);
    expect(() => defineRegistry({ ...base, marts: [REFERRERS, ...base.marts, { ...WEEKLY, id: 'dailyTraffic' }] })).toThrow(/id dailyTraffic defined twice/);
    expect(() => defineRegistry({ ...base, marts: [{ ...REFERRERS, timeColumn: 'referrer' }, ...base.marts] })).toThrow(/referrer is not a timestamptz key column/);
    expect(() => defineRegistry({ ...base, marts: base.marts.filter((m) => m.id !== 'dailyTraffic') })).toThrow(/0 marts give the day's event total, expected 1/);
  });
});
