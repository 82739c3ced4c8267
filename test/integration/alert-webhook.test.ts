// The anomaly alert outbox delivered to a real local webhook receiver: one call per (session,
// episode, severity), a 500 retried with back-off and then delivered once, a 4xx parked for good,
// two senders sharing the outbox without double delivery, and job/quality failure notices.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertOutboxSender } from '../../src/io/alerts/alert-outbox-sender.ts';
import { createAlertNotifier } from '../../src/io/alerts/alert-notifier.ts';
import { createWebhookPoster } from '../../src/io/alerts/webhook-poster.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import type { Queryable } from '../../src/io/db/database.ts';
import { createLogger } from '../../src/io/log.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { replayKnownEvents } from '../support/known-events.ts';

interface Receiver {
  readonly url: string;
  /** Every request body, in arrival order, with the status answered. */
  readonly calls: { body: { text: string; blocks: unknown[] }; status: number }[];
  close(): Promise<void>;
}

/** A webhook receiver answering statuses from the list in turn, then 200. */
async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const calls: Receiver['calls'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      calls.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Receiver['calls'][number]['body'], status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const log = createLogger('error');
const delivered = (r: Receiver) => r.calls.filter((c) => c.status === 200).map((c) => c.body.text);

/** Runs delivery rounds until nothing deliverable is left, then two more (which must send nothing). */
async function deliverUntilQuiet(sender: AlertOutboxSender, db: Queryable): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await sender.deliverDue();
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM anomaly_alerts WHERE delivered_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at < 'infinity')`,
    );
    if (rows[0]!.n === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 30));
  }
  await sender.deliverDue();
  await sender.deliverDue();
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

for (const factory of testDatabaseFactories()) {
  describe(`alert webhook on ${factory.label}`, () => {
    async function filledDatabase(): Promise<TestDatabase> {
      const t = await factory.create();
      cleanups.push(() => t.dispose());
      await replayKnownEvents(t.db);
      return t;
    }

    it('posts one Slack-compatible message per episode and severity; a 500 is retried, then delivered once', async () => {
      const t = await filledDatabase();
      const receiver = await startReceiver([500]);
      cleanups.push(() => receiver.close());
      const sender = new AlertOutboxSender({ db: t.db, post: createWebhookPoster(receiver.url), log, backoffBaseMs: 100 });
      await deliverUntilQuiet(sender, t.db);

      expect(receiver.calls.map((c) => c.status)).toEqual([500, 200, 200, 200]);
      // The failed first alert is retried after its back-off; the others were not held up by it.
      expect(delivered(receiver).sort()).toEqual([
        'CRITICAL: session bot escalated to anomalous — 5 clicks within the anomaly span (from 2026-01-10T10:02:10.000Z)',
        'WARNING: session bot is anomalous — 3 clicks within the anomaly span (from 2026-01-10T10:20:10.000Z)',
        'WARNING: session bot is anomalous — 5 clicks within the anomaly span (from 2026-01-10T10:02:10.000Z)',
      ]);
      // The alert that met the 500 is the one sent again (after the others, which were not held up by it).
      expect(delivered(receiver).filter((text) => text === receiver.calls[0]!.body.text)).toHaveLength(1);
      expect(receiver.calls[0]!.body.text).toBe(receiver.calls[3]!.body.text);
      for (const call of receiver.calls) expect(call.body.blocks.length).toBe(2);

      const { rows } = await t.db.query<{ severity: string; detected_ts: Date; attempts: number; delivered: boolean; last_error: string | null }>(
        `SELECT severity, detected_ts, attempts, delivered_at IS NOT NULL AS delivered, last_error FROM anomaly_alerts ORDER BY detected_ts, severity DESC`,
      );
      expect(rows.map((r) => [r.detected_ts.toISOString(), r.severity, r.attempts, r.delivered, r.last_error])).toEqual([
        ['2026-01-10T10:02:10.000Z', 'WARNING', 2, true, null],
        ['2026-01-10T10:02:10.000Z', 'CRITICAL', 1, true, null],
        ['2026-01-10T10:20:10.000Z', 'WARNING', 1, true, null],
      ]);

      // A restarted sender finds nothing left to send.
      await new AlertOutboxSender({ db: t.db, post: createWebhookPoster(receiver.url), log }).deliverDue();
      expect(receiver.calls.length).toBe(4);
    });

    it('parks an alert the receiver refuses with a 4xx instead of retrying it forever', async () => {
      const t = await filledDatabase();
      const receiver = await startReceiver([400]);
      cleanups.push(() => receiver.close());
      const sender = new AlertOutboxSender({ db: t.db, post: createWebhookPoster(receiver.url), log, backoffBaseMs: 10 });
      await deliverUntilQuiet(sender, t.db);
      expect(receiver.calls.map((c) => c.status)).toEqual([400, 200, 200]);
      const { rows } = await t.db.query<{ parked: number }>(
        `SELECT count(*)::int AS parked FROM anomaly_alerts WHERE delivered_at IS NULL AND next_attempt_at = 'infinity' AND last_error = 'HTTP 400'`,
      );
      expect(rows[0]!.parked).toBe(1);
    });

    it('retries a receiver that is down, and delivers once it is up', async () => {
      const t = await filledDatabase();
      const receiver = await startReceiver();
      const url = receiver.url;
      await receiver.close();
      const sender = new AlertOutboxSender({ db: t.db, post: createWebhookPoster(url, { timeoutMs: 1000 }), log, backoffBaseMs: 50 });
      expect(await sender.deliverDue()).toEqual({ delivered: 0, failed: 3 });
      const { rows } = await t.db.query<{ last_error: string }>(`SELECT DISTINCT last_error FROM anomaly_alerts`);
      expect(rows.map((r) => r.last_error)).toEqual(['network: ECONNREFUSED']);
    });

    if (factory.kind === 'pg') {
      it('shares the outbox between two senders (two pools) without delivering anything twice', async () => {
        const t = await filledDatabase();
        const receiver = await startReceiver();
        cleanups.push(() => receiver.close());
        const other = createPgDatabase(t.url!, { max: 2 });
        cleanups.push(() => other.close());
        const a = new AlertOutboxSender({ db: t.db, post: createWebhookPoster(receiver.url), log, batchSize: 1 });
        const b = new AlertOutboxSender({ db: other, post: createWebhookPoster(receiver.url), log, batchSize: 1 });
        await Promise.all([deliverUntilQuiet(a, t.db), deliverUntilQuiet(b, other)]);
        expect(receiver.calls.length).toBe(3);
        expect(new Set(delivered(receiver)).size).toBe(3);
      });
    }
  });
}

describe('job and quality failure notices', () => {
  it('posts a failed job and a failed quality check, retrying a 503', async () => {
    const receiver = await startReceiver([503]);
    cleanups.push(() => receiver.close());
    const notifier = createAlertNotifier({ post: createWebhookPoster(receiver.url), log, backoffBaseMs: 20 });
    expect(await notifier.notifyJobFailure({ job: 'daily', step: 'cold', from: '2026-01-09', to: '2026-01-09', runId: '7', error: 'lake unreachable' })).toBe(true);
    expect(await notifier.notifyQualityFailure({ check: 'sum_invariant', mart: null, eventDate: '2026-01-09', observed: '1203', expected: '1204' })).toBe(true);
    expect(receiver.calls.map((c) => [c.status, c.body.text])).toEqual([
      [503, 'Job failed: daily / cold for 2026-01-09: lake unreachable'],
      [200, 'Job failed: daily / cold for 2026-01-09: lake unreachable'],
      [200, 'Quality check failed: sum_invariant (across marts) for 2026-01-09: observed 1203, expected 1204'],
    ]);
  });

  it('only logs when no webhook is configured', async () => {
    const notifier = createAlertNotifier({ post: null, log });
    expect(await notifier.notifyJobFailure({ job: 'daily', error: 'boom' })).toBe(false);
  });
});
