// `tidemark console`, run as the real CLI against PostgreSQL and Redis: with REDIS_URL the job
// triggers enqueue runs on BullMQ (audited in job_runs, visible as jobs on the queue) and
// bull-board answers under /admin/queues, behind the API token; without REDIS_URL the triggers
// answer 503 naming REDIS_URL and there is no board.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REDIS_FOR_JOBS } from '../../src/cli/app/console-jobs.ts';
import { openRedis } from '../../src/io/queue/bullmq-queue.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { testRedisUrl } from '../support/redis.ts';
import { startCli } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { freePort } from '../support/net.ts';

const TOKEN = 'console-board-token-0123';
const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');
if (pg === undefined) throw new Error('TEST_DATABASE_URL is not set: these tests need a PostgreSQL server');

interface RunningConsole {
  readonly url: string;
  stop(): Promise<CliResult>;
}

async function startConsole(env: Record<string, string>, args: readonly string[] = []): Promise<RunningConsole> {
  const port = await freePort();
  const { child, done } = startCli(['console', ...args], { ...env, PORT: String(port), TIDEMARK_API_TOKEN: TOKEN, LOG_LEVEL: 'warn' });
  const url = `http://127.0.0.1:${port}`;
  let exited: CliResult | undefined;
  void done.then((r) => (exited = r));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`console exited early (${exited.code}): ${exited.stderr}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('timed out waiting for the console');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGINT');
      return done;
    },
  };
}

const bearer = { authorization: `Bearer ${TOKEN}` };

describe('tidemark console with REDIS_URL', () => {
  const home = mkdtempSync(join(tmpdir(), 'tidemark-console-board-'));
  const queueName = `test-board-${randomUUID()}`;
  let t: TestDatabase;
  let consoleProcess: RunningConsole | undefined;

  beforeAll(async () => {
    t = await pg.create();
    consoleProcess = await startConsole({ TIDEMARK_HOME: home, DATABASE_URL: t.url!, REDIS_URL: testRedisUrl() }, ['--queue', queueName]);
  }, 90_000);

  afterAll(async () => {
    if (consoleProcess !== undefined) expect((await consoleProcess.stop()).code).toBe(0);
    const connection = openRedis(testRedisUrl());
    const queue = new Queue(queueName, { connection });
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    await t?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses /admin/queues without the token', async () => {
    const none = await fetch(`${consoleProcess!.url}/admin/queues`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="tidemark"');
    const wrong = await fetch(`${consoleProcess!.url}/admin/queues`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'the API token is required (Bearer, or as the Basic-auth password)' });
  });

  it('serves the board with the token, as Bearer or as a browser\'s Basic-auth password', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`]) {
      for (const path of ['/admin/queues', '/admin/queues/', `/admin/queues/queue/${queueName}`]) {
        const res = await fetch(`${consoleProcess!.url}${path}`, { headers: { authorization } });
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
        const html = await res.text();
        expect(html).toContain('<title>Bull Dashboard</title>');
        expect(html).toContain('<base href="/admin/queues/" />');
      }
    }
    // Its static assets come through the same mount.
    const icon = await fetch(`${consoleProcess!.url}/admin/queues/static/favicon-32x32.png`, { headers: bearer });
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/png');
  });

  it('starts a backfill on BullMQ: job_runs records it and the board lists its jobs', async () => {
    const answer = await fetch(`${consoleProcess!.url}/api/backfill`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '2026-01-08', to: '2026-01-09' }),
    });
    expect(answer.status).toBe(202);
    const { runId } = (await answer.json()) as { runId: string };
    expect(runId).toMatch(/^backfill-[0-9a-f-]{36}$/);
    // No worker runs beside this console: the run stays open, its chains wait on the queue.
    const { rows } = await t.db.query<{ job: string; step: string | null; range_from: string; range_to: string; requested_by: string; outcome: string }>(
      `SELECT job, step, range_from::text, range_to::text, requested_by, outcome FROM job_runs WHERE run_id = $1`,
      [runId],
    );
    expect(rows).toEqual([{ job: 'backfill', step: null, range_from: '2026-01-08', range_to: '2026-01-09', requested_by: 'api', outcome: 'running' }]);

    const board = await fetch(`${consoleProcess!.url}/admin/queues/api/queues?activeQueue=${queueName}&status=waiting&page=1&jobsPerPage=10`, { headers: bearer });
    expect(board.status).toBe(200);
    const body = (await board.json()) as { queues: { name: string; counts: Record<string, number>; jobs: { id: string }[] }[] };
    expect(body.queues.map((q) => q.name)).toEqual([queueName]);
    const [queue] = body.queues;
    // Two dates × four steps: per date the first step waits, the three after it wait for their child.
    expect(queue!.counts['waiting']).toBe(2);
    expect(queue!.counts['waiting-children']).toBe(6);
    expect(queue!.jobs.map((j) => j.id).sort()).toEqual([`${runId}.completeness.2026-01-08`, `${runId}.completeness.2026-01-09`]);
  });

  it('still refuses the triggers without the token', async () => {
    const res = await fetch(`${consoleProcess!.url}/api/reconcile`, { method: 'POST', body: JSON.stringify({ date: '2026-01-09' }) });
    expect(res.status).toBe(401);
  });
});

describe('tidemark console without REDIS_URL', () => {
  const home = mkdtempSync(join(tmpdir(), 'tidemark-console-noredis-'));
  let t: TestDatabase;
  let consoleProcess: RunningConsole | undefined;

  beforeAll(async () => {
    t = await pg.create();
    consoleProcess = await startConsole({ TIDEMARK_HOME: home, DATABASE_URL: t.url! });
  }, 90_000);

  afterAll(async () => {
    if (consoleProcess !== undefined) expect((await consoleProcess.stop()).code).toBe(0);
    await t?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers the triggers 503 naming REDIS_URL, and has no board', async () => {
    const res = await fetch(`${consoleProcess!.url}/api/backfill`, { method: 'POST', headers: bearer, body: JSON.stringify({ from: '2026-01-09', to: '2026-01-09' }) });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: NO_REDIS_FOR_JOBS });
    const board = await fetch(`${consoleProcess!.url}/admin/queues`, { headers: bearer });
    expect(board.status).toBe(404);
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_runs`);
    expect(rows[0]!.n).toBe(0);
  });
});
