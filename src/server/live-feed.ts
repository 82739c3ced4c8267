// Server-sent events for the console (/api/live): one snapshot of everything the page shows,
// computed once per tick however many pages are open, and pushed to each of them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queryable } from '../io/db/database.ts';
import type { Logger } from '../io/log.ts';
import { sendJson } from './http-helpers.ts';
import { anomalyAlerts, clinicalTrend, topDocs, trafficMinutes } from '../io/queries/mart-queries.ts';
import { operatorStatus } from '../io/queries/operator-status.ts';

/** Minutes of traffic the console's chart shows. */
const TRAFFIC_WINDOW_MS = 3 * 3_600_000;

/** What the page shows besides the marts: the mart time zone, and /readyz's verdict. */
export interface ConsoleContext {
  /** MART_TIMEZONE: dates and times on the page are shown in it. */
  readonly timeZone: string;
  readonly readiness: () => Promise<unknown>;
  /** Whether this process delivers the alert outbox (ALERT_WEBHOOK_URL); null: not known. */
  readonly alertWebhook: boolean | null;
}

export async function consoleSnapshot(db: Queryable, nowMs: number, lag: number | null, context: ConsoleContext) {
  // Provisional minutes may lie a little ahead of the wall clock (events within MAX_FUTURE_SKEW).
  const traffic = await trafficMinutes(db, nowMs - TRAFFIC_WINDOW_MS, nowMs + 10 * 60_000);
  const status = await operatorStatus(db, { nowMs, lag });
  // Rows at or after the stream's watermark are provisional: late-arriving events still change them.
  const watermarks = status.consumers.map((c) => (c.watermark === null ? Number.POSITIVE_INFINITY : Date.parse(c.watermark)));
  const finalBefore = watermarks.length === 0 ? null : Math.min(...watermarks);
  return {
    now: new Date(nowMs).toISOString(),
    time_zone: context.timeZone,
    alert_webhook: context.alertWebhook,
    final_before: finalBefore === null || !Number.isFinite(finalBefore) ? null : new Date(finalBefore).toISOString(),
    traffic,
    top: await topDocs(db, { atMs: nowMs, limit: 10 }),
    trend: await clinicalTrend(db, { atMs: nowMs }),
    anomalies: await anomalyAlerts(db, 20),
    status,
    readiness: await context.readiness().catch((error: unknown) => ({ ready: false, reasons: [(error as Error).message] })),
  };
}

export interface LiveFeedOptions {
  readonly db: Queryable;
  readonly lag: () => Promise<number | null>;
  readonly clock: () => number;
  readonly everyMs: number;
  /** Open connections at most; a page beyond them is answered 503 (LIVE_MAX_CONNECTIONS). */
  readonly maxClients: number;
  readonly log: Logger;
  readonly context: ConsoleContext;
}

export class LiveFeed {
  private readonly options: LiveFeedOptions;
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** The snapshot being computed, shared by every page that asks meanwhile. */
  private pending: Promise<string | undefined> | undefined;
  private latest: { readonly at: number; readonly payload: string } | undefined;

  constructor(options: LiveFeedOptions) {
    this.options = options;
  }

  async subscribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.clients.size >= this.options.maxClients) {
      // Every open page costs a socket and a write per tick: past the cap, refuse, so that
      // /healthz and /metrics keep answering however many pages (or clients) connect.
      sendJson(res, 503, { error: `too many live connections (at most ${this.options.maxClients}); retry later` }, { 'retry-after': '10' });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    // A page that went away mid-write must not take the process down with an unhandled error.
    res.on('error', () => this.clients.delete(res));
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTicking();
    });
    this.timer ??= setInterval(() => void this.tick(), this.options.everyMs);
    // The newcomer gets a snapshot at once instead of waiting for the next tick: the latest one
    // while it is fresh, else the one being computed, so a crowd of newcomers costs one query set.
    const fresh = this.latest !== undefined && this.options.clock() - this.latest.at < this.options.everyMs;
    const payload = fresh ? this.latest?.payload : await this.sharedSnapshot();
    if (payload !== undefined && !res.writableEnded && !res.destroyed) res.write(payload);
  }

  /** One snapshot as JSON, for the page's first render (null when the database did not answer). */
  async initial(): Promise<string | null> {
    try {
      const now = this.options.clock();
      return JSON.stringify(await consoleSnapshot(this.options.db, now, await this.options.lag().catch(() => null), this.options.context));
    } catch (error) {
      this.options.log.warn('initial snapshot failed', { error: (error as Error).message });
      return null;
    }
  }

  close(): void {
    this.stopTicking();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private stopTicking(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    // A slow database must not pile up overlapping snapshots.
    if (this.busy) return;
    this.busy = true;
    try {
      const payload = await this.sharedSnapshot();
      if (payload !== undefined) for (const res of this.clients) if (!res.destroyed) res.write(payload);
    } finally {
      this.busy = false;
    }
  }

  private sharedSnapshot(): Promise<string | undefined> {
    this.pending ??= this.snapshot().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async snapshot(): Promise<string | undefined> {
    try {
      const now = this.options.clock();
      const body = await consoleSnapshot(this.options.db, now, await this.options.lag().catch(() => null), this.options.context);
      const payload = `event: snapshot\ndata: ${JSON.stringify(body)}\n\n`;
      this.latest = { at: now, payload };
      return payload;
    } catch (error) {
      this.options.log.warn('live snapshot failed', { error: (error as Error).message });
      return undefined;
    }
  }
}
