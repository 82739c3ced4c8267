// However many clients open /api/live (server-sent events), the server stays answerable: past
// the cap they get 503 with Retry-After, /healthz and /metrics answer while the feed's pages are
// open, and a crowd of newcomers shares one snapshot instead of one query set each.
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createLogger } from '../../src/io/log.ts';
import { Registry } from '../../src/io/metrics.ts';
import { startHttpServer } from '../../src/server/http-server.ts';
import type { RunningHttpServer } from '../../src/server/http-server.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const CAP = 20;
const CLIENTS = 150;

/** Opens /api/live; resolves with the status and, for 200, the first snapshot event. */
function openLive(url: string): Promise<{ status: number; res: IncomingMessage; first: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/live`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (res.statusCode !== 200 || text.includes('event: snapshot')) resolve({ status: res.statusCode ?? 0, res, first: text });
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, res, first: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Counts the statements the server runs, to show that newcomers share snapshots. */
function counting(db: Database): { db: Database; count: () => number } {
  let n = 0;
  const wrapped: Database = Object.create(db) as Database;
  wrapped.query = ((sql: string, params?: readonly unknown[]) => {
    n++;
    return db.query(sql, params as unknown[]);
  }) as Database['query'];
  return { db: wrapped, count: () => n };
}

const factory = testDatabaseFactories().at(-1)!;

describe(`/api/live connection cap (${factory.label})`, () => {
  let t: TestDatabase;
  let server: RunningHttpServer;
  let queries: () => number;

  beforeAll(async () => {
    t = await factory.create();
    const c = counting(t.db);
    queries = c.count;
    server = await startHttpServer({
      db: c.db,
      registry: new Registry(),
      log: createLogger('error'),
      port: 0,
      host: '127.0.0.1',
      apiToken: null,
      readiness: { maxCheckpointAgeMs: 60_000, maxLag: 10 },
      liveEveryMs: 3_600_000,
      liveMaxConnections: CAP,
    });
  });

  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it('refuses connections past the cap with 503 and keeps /healthz and /metrics answering', async () => {
    const opened = await Promise.all(Array.from({ length: CLIENTS }, () => openLive(server.url)));
    try {
      const statuses = opened.map((o) => o.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(CAP);
      expect(statuses.filter((s) => s === 503)).toHaveLength(CLIENTS - CAP);
      const refused = opened.find((o) => o.status === 503)!;
      expect(refused.res.headers['retry-after']).toBe('10');
      expect(JSON.parse(refused.first)).toEqual({ error: `too many live connections (at most ${CAP}); retry later` });
      for (const o of opened.filter((x) => x.status === 200)) expect(o.first).toContain('event: snapshot');

      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
      // Twenty newcomers at once: one snapshot's queries (about a dozen), not twenty snapshots' (over 200).
      expect(queries()).toBeLessThanOrEqual(20);
    } finally {
      for (const o of opened) o.res.destroy();
    }
  });
});
