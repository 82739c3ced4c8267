// The JSON API: reads of the hot marts and the bookkeeping tables, and the token-protected
// triggers of backfill and reconcile. Query parameters are validated here; SQL binds them.
import type { IncomingMessage } from 'node:http';
import type { Queryable } from '../io/db/database.ts';
import { MAX_EVENT_TS_MS } from '../marts/event-contract.ts';
import { anomalyAlerts, clinicalTrend, jobRuns, topDocs, trafficMinutes } from '../io/queries/mart-queries.ts';
import { operatorStatus } from '../io/queries/operator-status.ts';
import { getRun, listStepRuns } from '../jobs/job-runs.ts';
import { runWaits } from '../jobs/run-waits.ts';
import { checkBearerToken } from './bearer-token.ts';
import { HttpError, sendJson } from './http-helpers.ts';
import type { Handler } from './http-helpers.ts';
import { JobRequestRejected } from './job-control.ts';
import type { JobControl, JobStarted } from './job-control.ts';

export interface ApiOptions {
  readonly db: Queryable;
  readonly apiToken: string | null;
  readonly jobs: JobControl | undefined;
  /** Why jobs cannot be started here, for the 503 answer when `jobs` is undefined. */
  readonly jobsUnavailable?: string;
  readonly lag: () => Promise<number | null>;
  readonly clock: () => number;
}

const MAX_TRAFFIC_RANGE_MS = 7 * 86_400_000;
const MAX_BODY_BYTES = 16_384;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export function apiRoutes(options: ApiOptions): Record<string, Handler> {
  const { db, clock } = options;
  return {
    'GET /api/marts/traffic': async (_req, res, url) => {
      const to = instantParam(url, 'to') ?? clock();
      const from = instantParam(url, 'from') ?? to - 3_600_000;
      if (from > to) throw new HttpError(400, 'from must not be after to');
      if (to - from > MAX_TRAFFIC_RANGE_MS) throw new HttpError(400, 'the range from … to spans at most 7 days');
      sendJson(res, 200, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), rows: await trafficMinutes(db, from, to) });
    },
    'GET /api/marts/top-docs': async (_req, res, url) => {
      const limit = intParam(url, 'limit', 10, 1, 20);
      const snapshot = instantParam(url, 'snapshot');
      sendJson(res, 200, await topDocs(db, { atMs: clock(), limit, ...(snapshot === undefined ? {} : { snapshotMs: snapshot }) }));
    },
    'GET /api/marts/clinical-trend': async (_req, res, url) => {
      const snapshot = instantParam(url, 'snapshot');
      sendJson(res, 200, await clinicalTrend(db, { atMs: clock(), ...(snapshot === undefined ? {} : { snapshotMs: snapshot }) }));
    },
    'GET /api/anomalies': async (_req, res, url) => {
      sendJson(res, 200, { rows: await anomalyAlerts(db, intParam(url, 'limit', 20, 1, 500)) });
    },
    'GET /api/job-runs': async (_req, res, url) => {
      sendJson(res, 200, { rows: await jobRuns(db, intParam(url, 'limit', 20, 1, 500)) });
    },
    // One run's progress, as `tidemark backfill` shows it: steps done, and what waits for what.
    'GET /api/job-run': async (_req, res, url) => {
      const id = url.searchParams.get('id');
      if (id === null || id === '' || id.length > 200) throw new HttpError(400, 'id (a run id) is required');
      const run = await getRun(db, id);
      if (run === null) throw new HttpError(404, `no run ${id}`);
      const progress = { run, stepRuns: await listStepRuns(db, id) };
      const done = new Set(progress.stepRuns.filter((s) => s.outcome === 'succeeded').map((s) => `${s.date}.${s.step}`)).size;
      sendJson(res, 200, {
        run,
        steps: { done, total: run.dates.length * run.steps.length + (run.fullRefresh ? 1 : 0) },
        days: { settled: run.datesSettled, total: run.dates.length },
        waits: runWaits(progress),
        attempts: progress.stepRuns,
      });
    },
    'GET /api/status': async (_req, res) => {
      sendJson(res, 200, await operatorStatus(db, { nowMs: clock(), lag: await options.lag().catch(() => null) }));
    },
    'POST /api/backfill': async (req, res) => {
      const jobs = authorize(req, options);
      const body = await readJson(req);
      const from = dateField(body, 'from');
      const to = dateField(body, 'to');
      if (from > to) throw new HttpError(400, 'from must not be after to');
      const marts = body['marts'];
      if (marts !== undefined && (!Array.isArray(marts) || !marts.every((m) => typeof m === 'string' && m !== ''))) {
        throw new HttpError(400, 'marts must be an array of mart names');
      }
      const fullRefresh = body['fullRefresh'] ?? false;
      if (typeof fullRefresh !== 'boolean') throw new HttpError(400, 'fullRefresh must be true or false');
      const started = await asRequest(jobs.startBackfill({ from, to, ...(marts === undefined ? {} : { marts: marts as string[] }), fullRefresh, requestedBy: 'api' }));
      sendJson(res, 202, { runId: started.runId });
    },
    'POST /api/reconcile': async (req, res) => {
      const jobs = authorize(req, options);
      const body = await readJson(req);
      const started = await asRequest(jobs.reconcile(dateField(body, 'date'), 'api'));
      sendJson(res, 202, { runId: started.runId });
    },
  };
}

/** Token first (so an unauthenticated caller learns nothing else), then whether jobs are wired. */
function authorize(req: IncomingMessage, options: ApiOptions): JobControl {
  const check = checkBearerToken(options.apiToken, req.headers.authorization);
  if (check === 'disabled') throw new HttpError(403, 'state-changing endpoints are disabled: TIDEMARK_API_TOKEN is not set');
  if (check !== 'ok') throw new HttpError(401, check === 'missing' ? 'a bearer token is required' : 'the bearer token is wrong');
  if (options.jobs === undefined) throw new HttpError(503, options.jobsUnavailable ?? 'no job runner is wired into this process');
  return options.jobs;
}

async function asRequest(starting: Promise<JobStarted>): Promise<JobStarted> {
  try {
    return await starting;
  } catch (error) {
    if (error instanceof JobRequestRejected) throw new HttpError(400, error.message);
    throw error;
  }
}

function instantParam(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  // Bounded like event_ts: past year 9999 an instant has no ISO-8601 form to answer with.
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_EVENT_TS_MS) {
    throw new HttpError(400, `${name} must be an ISO-8601 instant or epoch milliseconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z`);
  }
  return ms;
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}`);
  return value;
}

function dateField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || !DATE_PATTERN.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new HttpError(400, `${name} must be a date YYYY-MM-DD`);
  }
  return value;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
