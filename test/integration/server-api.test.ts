// The HTTP server against a database filled by replaying the known event set through the real
// engine: exact JSON of every read endpoint, token handling of the state-changing ones,
// readiness, and /metrics parsed by a Prometheus text-format parser.
import type { ServerResponse } from 'node:http';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/io/log.ts';
import { addOperatorCollectors, jobRunsCollector } from '../../src/io/scrape-collectors.ts';
import { Registry, operatorMetrics, streamMetrics } from '../../src/io/metrics.ts';
import { startHttpServer } from '../../src/server/http-server.ts';
import type { RunningHttpServer } from '../../src/server/http-server.ts';
import type { BackfillRequest, JobControl } from '../../src/server/job-control.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { replayKnownEvents } from '../support/known-events.ts';

const TOKEN = 'test-token-0123456789';
const NOW = Date.parse('2026-01-10T10:07:30Z');

class RecordingJobs implements JobControl {
  readonly backfills: BackfillRequest[] = [];
  readonly reconciles: string[] = [];
  async startBackfill(request: BackfillRequest) {
    this.backfills.push(request);
    return { runId: '41' };
  }
  async reconcile(date: string) {
    this.reconciles.push(date);
    return { runId: '42' };
  }
}

for (const factory of testDatabaseFactories()) {
  describe(`HTTP server on ${factory.label}`, () => {
    let t: TestDatabase;
    let registry: Registry;
    let server: RunningHttpServer;
    let open: RunningHttpServer;
    const jobs = new RecordingJobs();

    beforeAll(async () => {
      t = await factory.create();
      registry = new Registry();
      const metrics = streamMetrics(registry);
      const operator = operatorMetrics(registry);
      await replayKnownEvents(t.db, metrics);
      await t.db.query(
        `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, started_at, finished_at, outcome)
         VALUES ('daily', 'cold', '2026-01-09', '2026-01-09', 'scheduler', '2026-01-10T02:00:00Z', '2026-01-10T02:00:12.5Z', 'succeeded'),
                ('backfill', NULL, '2026-01-01', '2026-01-05', 'api', '2026-01-10T03:00:00Z', NULL, 'running')`,
      );
      await t.db.query(
        `INSERT INTO reconcile_reports (mart, event_date, rows_compared, rows_changed, rows_added, rows_removed, max_abs_diff, late_events, created_at)
         VALUES ('mart_realtime_traffic_minute', '2026-01-09', 1440, 3, 1, 0, 7, 4, '2026-01-10T02:01:00Z'),
                ('mart_realtime_traffic_minute', '2026-01-08', 1440, 9, 0, 0, 2, 1, '2026-01-09T02:01:00Z')`,
      );
      registry.addCollector(jobRunsCollector(t.db, operator, { sinceMs: Date.parse('2026-01-10T00:00:00Z') }));
      const base = { db: t.db, registry, log: createLogger('error'), port: 0, host: '127.0.0.1', readiness: { maxCheckpointAgeMs: 60_000, maxLag: 10 }, clock: () => NOW };
      server = await startHttpServer({ ...base, apiToken: TOKEN, jobs, consumers: ['known'], lag: async () => 0 });
      open = await startHttpServer({ ...base, apiToken: null, jobs });
    });

    afterAll(async () => {
      await server?.close();
      await open?.close();
      await t?.dispose();
    });

    const get = async (path: string, on = server): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`${on.url}${path}`);
      return { status: res.status, body: await res.json() };
    };

    it('answers /healthz', async () => {
      expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('serves per-minute traffic for a range', async () => {
      expect(await get('/api/marts/traffic?from=2026-01-10T10:00:00Z&to=2026-01-10T10:03:00Z')).toEqual({
        status: 200,
        body: {
          from: '2026-01-10T10:00:00.000Z',
          to: '2026-01-10T10:03:00.000Z',
          rows: [
            { event_minute: '2026-01-10T10:00:00.000Z', total_clicks: 3, unique_sessions: 2, unique_docs: 2, is_final: true },
            { event_minute: '2026-01-10T10:01:00.000Z', total_clicks: 2, unique_sessions: 2, unique_docs: 2, is_final: true },
            { event_minute: '2026-01-10T10:02:00.000Z', total_clicks: 6, unique_sessions: 1, unique_docs: 1, is_final: true },
          ],
        },
      });
    });

    it('serves the newest top-documents snapshot at or before now', async () => {
      expect(await get('/api/marts/top-docs')).toEqual({
        status: 200,
        body: {
          snapshot_ts: '2026-01-10T10:07:00.000Z',
          rows: [
            { rank: 1, document_id: '4', title: 'Sepsis: care pathway', click_count: 6, unique_sessions: 1 },
            { rank: 2, document_id: '1', title: 'Asthma: guideline (2026)', click_count: 3, unique_sessions: 2 },
            { rank: 3, document_id: '2', title: 'Gout: diagnosis', click_count: 1, unique_sessions: 1 },
            { rank: 4, document_id: '3', title: null, click_count: 1, unique_sessions: 1 },
          ],
        },
      });
      const exact = await get('/api/marts/top-docs?snapshot=2026-01-10T10:01:00Z&limit=2');
      expect(exact.body).toEqual({
        snapshot_ts: '2026-01-10T10:01:00.000Z',
        rows: [
          { rank: 1, document_id: '1', title: 'Asthma: guideline', click_count: 2, unique_sessions: 2 },
          { rank: 2, document_id: '2', title: 'Gout: diagnosis', click_count: 1, unique_sessions: 1 },
        ],
      });
    });

    it('serves the newest clinical trend snapshot', async () => {
      expect(await get('/api/marts/clinical-trend')).toEqual({
        status: 200,
        body: {
          snapshot_ts: '2026-01-10T10:05:00.000Z',
          // The data start at 10:00 that day: the 24 h before the window are not covered.
          previous_window_start: '2026-01-08T10:05:00.000Z',
          data_since: '2026-01-10T10:00:00.000Z',
          previous_window_complete: false,
          rows: [
            { clinical_area: 'neurology', click_count: 6, unique_sessions: 1, trend_pct: null },
            { clinical_area: 'cardiology', click_count: 3, unique_sessions: 2, trend_pct: null },
            { clinical_area: 'oncology', click_count: 1, unique_sessions: 1, trend_pct: null },
            { clinical_area: 'unknown', click_count: 1, unique_sessions: 1, trend_pct: null },
          ],
        },
      });
    });

    it('marks the clinical trend complete once the data reach back over the previous 24 h', async () => {
      // A traffic minute two days earlier, as a source running since then would have left.
      await t.db.query(
        `INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs, is_final) VALUES ('2026-01-08T10:05:00Z', 1, 1, 1, true)`,
      );
      try {
        const { body } = await get('/api/marts/clinical-trend?snapshot=2026-01-10T10:05:00Z');
        expect(body).toMatchObject({ previous_window_start: '2026-01-08T10:05:00.000Z', data_since: '2026-01-08T10:05:00.000Z', previous_window_complete: true });
        // For a snapshot five minutes earlier the data start five minutes too late.
        expect((await get('/api/marts/clinical-trend?snapshot=2026-01-10T10:00:00Z')).body).toMatchObject({
          previous_window_start: '2026-01-08T10:00:00.000Z',
          data_since: '2026-01-08T10:05:00.000Z',
          previous_window_complete: false,
        });
      } finally {
        await t.db.query(`DELETE FROM mart_realtime_traffic_minute WHERE event_minute = '2026-01-08T10:05:00Z'`);
      }
    });

    it('lists anomaly alerts newest first, one per episode and severity', async () => {
      const { status, body } = await get('/api/anomalies?limit=10');
      expect(status).toBe(200);
      const rows = (body as { rows: Record<string, unknown>[] }).rows;
      expect(rows.map(({ session_id, detected_ts, severity, click_count, delivered_at }) => ({ session_id, detected_ts, severity, click_count, delivered_at }))).toEqual([
        { session_id: 'bot', detected_ts: '2026-01-10T10:20:10.000Z', severity: 'WARNING', click_count: 3, delivered_at: null },
        { session_id: 'bot', detected_ts: '2026-01-10T10:02:10.000Z', severity: 'CRITICAL', click_count: 5, delivered_at: null },
        // Both alerts of the first episode were raised in one batch; the outbox row holds the
        // episode's count at that commit, so the WARNING row shows 5 too.
        { session_id: 'bot', detected_ts: '2026-01-10T10:02:10.000Z', severity: 'WARNING', click_count: 5, delivered_at: null },
      ]);
      for (const row of rows) expect(Number.isNaN(Date.parse(String(row['raised_at'])))).toBe(false);
    });

    it('lists job runs with durations', async () => {
      const { body } = await get('/api/job-runs');
      const rows = (body as { rows: Record<string, unknown>[] }).rows;
      expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual([
        { job: 'backfill', step: null, range_from: '2026-01-01', range_to: '2026-01-05', requested_by: 'api', started_at: '2026-01-10T03:00:00.000Z', finished_at: null, outcome: 'running', duration_sec: null, detail: null },
        { job: 'daily', step: 'cold', range_from: '2026-01-09', range_to: '2026-01-09', requested_by: 'scheduler', started_at: '2026-01-10T02:00:00.000Z', finished_at: '2026-01-10T02:00:12.500Z', outcome: 'succeeded', duration_sec: 12.5, detail: null },
      ]);
    });

    it('reports status: watermark, lag, bad input, runs and the latest drift per mart', async () => {
      const { body } = await get('/api/status');
      const status = body as Record<string, unknown>;
      expect(status['now']).toBe('2026-01-10T10:07:30.000Z');
      expect(status['lag']).toBe(0);
      const consumers = status['consumers'] as Record<string, unknown>[];
      expect(consumers.map(({ consumer, watermark, watermark_delay_sec, partitions, committed_offsets }) => ({ consumer, watermark, watermark_delay_sec, partitions, committed_offsets }))).toEqual([
        // A replayed file ends with a watermark of +∞: every window is final.
        { consumer: 'known', watermark: null, watermark_delay_sec: null, partitions: 1, committed_offsets: 16 },
      ]);
      expect((status['last_runs'] as unknown[]).length).toBe(2);
      expect(status['drift']).toEqual([
        { mart: 'mart_realtime_traffic_minute', event_date: '2026-01-09', rows_compared: 1440, rows_changed: 3, rows_added: 1, rows_removed: 0, max_abs_diff: 7, late_events: 4, created_at: '2026-01-10T02:01:00.000Z' },
      ]);
    });

    it('rejects bad query parameters with 400', async () => {
      expect((await get('/api/marts/traffic?from=yesterday')).status).toBe(400);
      expect((await get('/api/marts/traffic?from=2026-01-10T10:00:00Z&to=2026-01-09T10:00:00Z')).status).toBe(400);
      expect((await get('/api/anomalies?limit=0')).status).toBe(400);
      expect((await get('/api/nothing-here')).status).toBe(404);
    });

    it('rejects out-of-range instants with 400 naming the key', async () => {
      const range = 'must be an ISO-8601 instant or epoch milliseconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';
      expect(await get('/api/marts/traffic?to=99999999999999999999')).toEqual({ status: 400, body: { error: `to ${range}` } });
      expect(await get('/api/marts/traffic?from=253402300800000&to=253402300800001')).toEqual({ status: 400, body: { error: `to ${range}` } });
      expect(await get('/api/marts/traffic?from=%2B275760-09-13T00:00:00Z')).toEqual({ status: 400, body: { error: `from ${range}` } });
      expect(await get('/api/marts/traffic?from=-000001-01-01T00:00:00Z')).toEqual({ status: 400, body: { error: `from ${range}` } });
    });

    const post = async (path: string, body: unknown, token: string | undefined, on = server) => {
      const res = await fetch(`${on.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };

    it('refuses backfill and reconcile without a token, with a wrong one, and when no token is configured', async () => {
      const backfill = { from: '2026-01-01', to: '2026-01-03' };
      expect(await post('/api/backfill', backfill, undefined)).toEqual({ status: 401, body: { error: 'a bearer token is required' } });
      expect(await post('/api/backfill', backfill, 'wrong-token-0123456789')).toEqual({ status: 401, body: { error: 'the bearer token is wrong' } });
      expect(await post('/api/reconcile', { date: '2026-01-09' }, 'x')).toEqual({ status: 401, body: { error: 'the bearer token is wrong' } });
      expect(await post('/api/backfill', backfill, TOKEN, open)).toEqual({
        status: 403,
        body: { error: 'state-changing endpoints are disabled: TIDEMARK_API_TOKEN is not set' },
      });
      expect(jobs.backfills).toEqual([]);
      expect(jobs.reconciles).toEqual([]);
    });

    it('starts backfill and reconcile with the right token', async () => {
      expect(await post('/api/backfill', { from: '2026-01-01', to: '2026-01-03', marts: ['mart_daily_traffic'], fullRefresh: true }, TOKEN)).toEqual({ status: 202, body: { runId: '41' } });
      expect(await post('/api/reconcile', { date: '2026-01-09' }, TOKEN)).toEqual({ status: 202, body: { runId: '42' } });
      expect(jobs.backfills).toEqual([{ from: '2026-01-01', to: '2026-01-03', marts: ['mart_daily_traffic'], fullRefresh: true, requestedBy: 'api' }]);
      expect(jobs.reconciles).toEqual(['2026-01-09']);
      expect((await post('/api/backfill', { from: '2026-02-30', to: '2026-03-01' }, TOKEN)).status).toBe(400);
      expect((await post('/api/reconcile', { date: '2026-01-09' }, TOKEN)).status).toBe(202);
    });

    it('is ready while the checkpoint is fresh or there is no work', async () => {
      expect(await get('/readyz')).toEqual({ status: 200, body: { ready: true, reasons: [], lag: 0, checkpoint_age_sec: expect.any(Number) } });
    });

    it('is not ready when lag exceeds its limit and the checkpoint is old', async () => {
      const lagging = await startHttpServer({
        db: t.db, registry, log: createLogger('error'), port: 0, host: '127.0.0.1', apiToken: null, consumers: ['known', 'absent'],
        readiness: { maxCheckpointAgeMs: 1000, maxLag: 10 }, lag: async () => 500, clock: () => Date.now() + 3_600_000,
      });
      try {
        const { status, body } = await get('/readyz', lagging);
        expect(status).toBe(503);
        const reasons = (body as { reasons: string[] }).reasons;
        expect(reasons[0]).toBe('consumer lag 500 exceeds 10 messages');
        expect(reasons[1]).toBe('consumer absent has no checkpoint yet');
        expect(reasons[2]).toMatch(/^checkpoint of known is \d+(\.\d)? s old \(limit 1 s\)$/);
      } finally {
        await lagging.close();
      }
    });

    it('serves /metrics in the Prometheus text format, with the counters of the replay', async () => {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const families = parsePrometheusTextFormat(await res.text());
      const family = (name: string) => families.find((f) => f.name === name);
      const value = (name: string, labels: Record<string, string> = {}) =>
        Number(family(name)?.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))?.value);
      expect(value('tidemark_events_in_total')).toBe(16);
      expect(value('tidemark_events_applied_total')).toBe(14);
      expect(value('tidemark_duplicate_events_total')).toBe(1);
      expect(value('tidemark_dead_letters_total', { reason: 'invalid_json' })).toBe(1);
      expect(value('tidemark_late_events_total')).toBe(0);
      expect(value('tidemark_anomaly_alerts_total', { severity: 'WARNING' })).toBe(2);
      expect(value('tidemark_anomaly_alerts_total', { severity: 'CRITICAL' })).toBe(1);
      expect(family('tidemark_batch_duration_seconds')?.type).toBe('HISTOGRAM');
      expect(Number(family('tidemark_batch_duration_seconds')?.metrics[0]?.count)).toBeGreaterThan(0);
      expect(family('tidemark_watermark_delay_seconds')?.type).toBe('GAUGE');
      // prom-client's default process and Node runtime metrics, as Node dashboards expect them.
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
        expect(family(name), name).toBeDefined();
      }
      // Job runs come from job_runs: the finished one counted once, however often /metrics is read.
      await fetch(`${server.url}/metrics`);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const again = parsePrometheusTextFormat(text);
      expect(again.find((f) => f.name === 'tidemark_job_runs_total')?.metrics).toEqual([{ value: '1', labels: { job: 'daily', outcome: 'succeeded' } }]);
      // The parser folds a labelled histogram into its buckets only (dropping the labels, sum and
      // count), so those are checked on the text itself.
      expect(again.find((f) => f.name === 'tidemark_job_duration_seconds')?.metrics[0]?.buckets).toMatchObject({ '5': '0', '15': '1', '+Inf': '1' });
      expect(text).toContain('\ntidemark_job_duration_seconds_sum{job="daily"} 12.5\ntidemark_job_duration_seconds_count{job="daily"} 1\n');
      for (const name of ['tidemark_consumer_lag_messages', 'tidemark_checkpoint_age_seconds', 'tidemark_job_runs_total', 'tidemark_job_duration_seconds', 'tidemark_alert_deliveries_total']) {
        expect(family(name), name).toBeDefined();
      }
    });
  });
}

describe('token-protected mounts (e.g. bull-board under /admin/queues)', () => {
  it('serves a mounted handler only with the token, as Bearer or Basic-auth password', async () => {
    const t = await testDatabaseFactories()[0]!.create();
    const mounts = [{ prefix: '/admin/queues', handler: (_req: unknown, res: ServerResponse) => void res.end('queues') }];
    const base = { db: t.db, registry: new Registry(), log: createLogger('error'), port: 0, host: '127.0.0.1', readiness: { maxCheckpointAgeMs: 60_000, maxLag: 10 }, mounts };
    const server = await startHttpServer({ ...base, apiToken: TOKEN });
    const closed = await startHttpServer({ ...base, apiToken: null });
    try {
      const status = async (url: string, authorization?: string) =>
        (await fetch(url, authorization === undefined ? {} : { headers: { authorization } })).status;
      expect(await status(`${closed.url}/admin/queues`, `Bearer ${TOKEN}`)).toBe(403);
      const noToken = await fetch(`${server.url}/admin/queues/api/queues`);
      expect([noToken.status, noToken.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="tidemark"']);
      expect(await status(`${server.url}/admin/queues`, 'Bearer wrong-token-0123456789')).toBe(401);
      expect(await status(`${server.url}/admin/queues`, `Basic ${Buffer.from(`ops:wrong`).toString('base64')}`)).toBe(401);
      const bearer = await fetch(`${server.url}/admin/queues/`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([bearer.status, await bearer.text()]).toEqual([200, 'queues']);
      expect(await status(`${server.url}/admin/queues`, `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`)).toBe(200);
      expect(await status(`${server.url}/admin/queuesx`, `Bearer ${TOKEN}`)).toBe(404);
    } finally {
      await server.close();
      await closed.close();
      await t.dispose();
    }
  });
});

for (const factory of testDatabaseFactories()) {
  describe(`/metrics while events flow on ${factory.label}`, () => {
    it('moves the counters as the stream commits', async () => {
      const t = await factory.create();
      const registry = new Registry();
      const metrics = streamMetrics(registry);
      addOperatorCollectors(registry, t.db, operatorMetrics(registry), async () => 0);
      const server = await startHttpServer({ db: t.db, registry, log: createLogger('error'), port: 0, host: '127.0.0.1', apiToken: null, readiness: { maxCheckpointAgeMs: 60_000, maxLag: 10 } });
      const scrape = async (name: string, labels: Record<string, string> = {}) => {
        const families = parsePrometheusTextFormat(await (await fetch(`${server.url}/metrics`)).text());
        const sample = families.find((f) => f.name === name)?.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
        return Number(sample?.value ?? Number.NaN);
      };
      try {
        expect(await scrape('tidemark_events_in_total')).toBe(0);
        await replayKnownEvents(t.db, metrics);
        expect(await scrape('tidemark_events_in_total')).toBe(16);
        expect(await scrape('tidemark_dead_letters_total', { reason: 'invalid_json' })).toBe(1);
        expect(await scrape('tidemark_checkpoint_age_seconds', { consumer: 'known' })).toBeGreaterThanOrEqual(0);
        expect(await scrape('tidemark_checkpoint_age_seconds', { consumer: 'known' })).toBeLessThan(60);
        expect(await scrape('tidemark_consumer_lag_messages')).toBe(0);
      } finally {
        await server.close();
        await t.dispose();
      }
    });
  });
}

for (const factory of testDatabaseFactories()) {
  describe(`GET /api/job-run on ${factory.label}`, () => {
    it("shows a run's progress and what its waiting step waits for", async () => {
      const t = await factory.create();
      const server = await startHttpServer({ db: t.db, registry: new Registry(), log: createLogger('error'), port: 0, host: '127.0.0.1', readiness: { maxCheckpointAgeMs: 60_000, maxLag: 10 }, apiToken: null });
      try {
        await t.db.query(
          `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, run_id, detail, started_at)
           VALUES ('backfill', NULL, '2026-03-09', '2026-03-10', 'night-shift', 'backfill-w', '{"dates":["2026-03-09","2026-03-10"],"steps":["completeness","cold"],"dry_run":false}', '2026-03-11T08:00:00Z')`,
        );
        const wait = { dry_run: false, waiting_for: 'archive', waiting_on: 'tidemark-archive', watermark: '2026-03-10T01:50:54.000Z', needed_watermark: '2026-03-11T00:00:00.000Z', next_retry_at: '2026-03-11T08:01:01.000Z' };
        await t.db.query(
          `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, run_id, task_id, attempt, detail, started_at, finished_at, outcome, error)
           VALUES ('backfill', 'completeness', '2026-03-09', '2026-03-09', 'night-shift', 'backfill-w', 'backfill-w.completeness.2026-03-09', 1, '{"dry_run":false}', '2026-03-11T08:00:00Z', '2026-03-11T08:00:00.5Z', 'succeeded', NULL),
                  ('backfill', 'cold', '2026-03-09', '2026-03-09', 'night-shift', 'backfill-w', 'backfill-w.cold.2026-03-09', 1, '{"dry_run":false}', '2026-03-11T08:00:01Z', '2026-03-11T08:00:03Z', 'succeeded', NULL),
                  ('backfill', 'completeness', '2026-03-10', '2026-03-10', 'night-shift', 'backfill-w', 'backfill-w.completeness.2026-03-10', 1, $1, '2026-03-11T08:00:00Z', '2026-03-11T08:00:01Z', 'not_ready', 'archive of 2026-03-10 is not complete')`,
          [JSON.stringify(wait)],
        );
        const res = await fetch(`${server.url}/api/job-run?id=backfill-w`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body['steps']).toEqual({ done: 2, total: 4 });
        expect(body['days']).toEqual({ settled: 0, total: 2 });
        expect(body['waits']).toEqual([
          {
            date: '2026-03-10',
            step: 'completeness',
            attempt: 1,
            waitingFor: 'archive',
            waitingOn: 'tidemark-archive',
            watermark: '2026-03-10T01:50:54.000Z',
            neededWatermark: '2026-03-11T00:00:00.000Z',
            nextRetryAt: '2026-03-11T08:01:01.000Z',
            reason: 'archive of 2026-03-10 is not complete',
          },
        ]);
        expect((body['attempts'] as unknown[]).length).toBe(3);
        expect((await fetch(`${server.url}/api/job-run?id=nope`)).status).toBe(404);
        expect((await fetch(`${server.url}/api/job-run`)).status).toBe(400);
      } finally {
        await server.close();
        await t.dispose();
      }
    });
  });
}
