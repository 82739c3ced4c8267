// The one small HTTP server (SPEC §8): health and readiness, Prometheus metrics, the JSON API,
// the live feed and the console page. node:http only; every handler answers JSON errors.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HttpError, sendJson } from './http-helpers.ts';
import type { Handler } from './http-helpers.ts';
import type { AddressInfo } from 'node:net';
import type { Database } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import type { Registry } from '../io/metrics.ts';
import { apiRoutes } from './api-routes.ts';
import { loadConsoleAssets } from './console-assets.ts';
import { LiveFeed } from './live-feed.ts';
import type { JobControl } from './job-control.ts';
import { checkReadiness } from './readiness.ts';
import { checkBearerToken } from './bearer-token.ts';

export interface HttpServerOptions {
  readonly db: Database;
  readonly registry: Registry;
  readonly log: Logger;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  /** null disables the state-changing endpoints. */
  readonly apiToken: string | null;
  /** The job layer, once wired; without it backfill/reconcile answer 503. */
  readonly jobs?: JobControl;
  /** The 503 message when `jobs` is absent: why, and what to do instead. */
  readonly jobsUnavailable?: string;
  /** Messages behind the source; null when this process cannot tell. */
  readonly lag?: () => Promise<number | null>;
  /** Consumers whose checkpoints /readyz watches (default: every consumer in the database). */
  readonly consumers?: readonly string[];
  readonly readiness: { readonly maxCheckpointAgeMs: number; readonly maxLag: number };
  /**
   * Token-protected handlers mounted under a path prefix, e.g. bull-board's node adapter under
   * /admin/queues when REDIS_URL is set. Disabled (403) without TIDEMARK_API_TOKEN.
   */
  readonly mounts?: readonly Mount[];
  /** How often the live feed pushes a fresh snapshot (default 2 s). */
  readonly liveEveryMs?: number;
  /** MART_TIMEZONE, for the console's dates (default UTC). */
  readonly martTimeZone?: string;
  /** Whether this process delivers the alert outbox (ALERT_WEBHOOK_URL set); unknown when absent. */
  readonly alertWebhook?: boolean;
  /** Open /api/live connections at most (default 100); more are answered 503. */
  readonly liveMaxConnections?: number;
  readonly clock?: () => number;
}

export interface Mount {
  /** Path prefix without a trailing slash, e.g. '/admin/queues'. */
  readonly prefix: string;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface RunningHttpServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** JSON inside a <script> element: nothing in it may close the element or open a comment. */
function scriptSafe(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const clock = options.clock ?? Date.now;
  const lag = options.lag ?? (async () => null);
  const assets = await loadConsoleAssets();
  const readiness = (): Promise<unknown> => checkReadiness(options.db, { ...options.readiness, lag, consumers: options.consumers, nowMs: clock() });
  const live = new LiveFeed({
    db: options.db,
    lag,
    clock,
    everyMs: options.liveEveryMs ?? 2000,
    maxClients: options.liveMaxConnections ?? 100,
    log: options.log,
    context: { timeZone: options.martTimeZone ?? 'UTC', readiness, alertWebhook: options.alertWebhook ?? null },
  });
  const page = assets.get('/');
  const api = apiRoutes({
    db: options.db,
    apiToken: options.apiToken,
    jobs: options.jobs,
    ...(options.jobsUnavailable === undefined ? {} : { jobsUnavailable: options.jobsUnavailable }),
    lag,
    clock,
  });

  const routes: Record<string, Handler> = {
    'GET /healthz': async (_req, res) => sendJson(res, 200, { status: 'ok' }),
    'GET /readyz': async (_req, res) => {
      const result = await checkReadiness(options.db, { ...options.readiness, lag, consumers: options.consumers, nowMs: clock() });
      sendJson(res, result.ready ? 200 : 503, result);
    },
    // The page with a first snapshot inside: a screenshot or a slow client sees numbers at once,
    // before the live feed connects.
    'GET /': async (_req, res) => {
      const html = (page?.body ?? Buffer.from('')).toString('utf8');
      const snapshot = await live.initial();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      const marker = '<script id="initial-snapshot" type="application/json">null</script>';
      // A function replacer: the snapshot's text may hold `$&` and the like.
      res.end(snapshot === null ? html : html.replace(marker, () => `<script id="initial-snapshot" type="application/json">${scriptSafe(snapshot)}</script>`));
    },
    'GET /metrics': async (_req, res) => {
      await options.registry.collect();
      const body = await options.registry.render();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(body);
    },
    'GET /api/live': async (req, res) => live.subscribe(req, res),
    ...api,
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    try {
      const route = routes[`${method} ${url.pathname}`];
      if (route !== undefined) return await route(req, res, url);
      const mount = options.mounts?.find((m) => url.pathname === m.prefix || url.pathname.startsWith(`${m.prefix}/`));
      if (mount !== undefined) {
        const check = checkBearerToken(options.apiToken, req.headers.authorization, { allowBasic: true });
        if (check === 'disabled') throw new HttpError(403, 'admin pages are disabled: TIDEMARK_API_TOKEN is not set');
        if (check !== 'ok') return sendJson(res, 401, { error: 'the API token is required (Bearer, or as the Basic-auth password)' }, { 'www-authenticate': 'Basic realm="tidemark"' });
        mount.handler(req, res);
        return;
      }
      const asset = method === 'GET' ? assets.get(url.pathname) : undefined;
      if (asset !== undefined) {
        res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
        res.end(asset.body);
        return;
      }
      const allowed = Object.keys(routes).filter((key) => key.endsWith(` ${url.pathname}`));
      if (allowed.length > 0) throw new HttpError(405, `method ${method} not allowed on ${url.pathname}`);
      throw new HttpError(404, `no such resource: ${url.pathname}`);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      options.log.error('http handler failed', { path: url.pathname, error: (error as Error).message });
      sendJson(res, 500, { error: 'internal error' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info('http server listening', { port });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      live.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
