// `tidemark retention` as users run it against PostgreSQL: --dry-run prints per table the rows it
// would delete and deletes none; the real run deletes exactly those (HOT_RETENTION_DAYS for hot
// data, 30 days for dead letters, late events and delivered alerts), keeps cold marts and
// undelivered alerts, and both are audited. And the daily trigger of `tidemark worker` runs the
// same job once the daily flow is enqueued.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { yesterdayIn } from '../../src/io/queue/daily-time.ts';
import { agedRowCounts, seedAgedRows } from '../support/cold-path-fixtures.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const DAY_MS = 86_400_000;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

/** The output with each cut-off instant within a minute of `now` − 7 days or − 30 days shown as <hot> or <dead>. */
function withCutoffs(stdout: string, now: number): string {
  const near = (iso: string, days: number): boolean => Math.abs(Date.parse(iso) - (now - days * DAY_MS)) < 60_000;
  return stdout.replace(ISO, (iso) => (near(iso, 7) ? '<hot>' : near(iso, 30) ? '<dead>' : iso));
}

function expectedOutput(dryRun: boolean, counts: readonly number[]): string {
  const names = [
    'mart_realtime_traffic_minute',
    'mart_realtime_top_docs_1h',
    'mart_realtime_clinical_trend_24h',
    'mart_realtime_anomaly_sessions',
    'dead_letter_events',
    'late_events',
    'anomaly_alerts',
  ];
  const verb = dryRun ? 'would delete' : 'deleted';
  const lines = names.map((name, i) => `${name.padEnd(32)}  ${String(counts[i]).padEnd(verb.length)}  ${i < 4 ? '<hot>' : '<dead>'}`);
  return [
    `tidemark retention${dryRun ? ' (dry run: nothing deleted)' : ''}: hot data 7 days, dead letters, late events and delivered alerts 30 days`,
    `${'table'.padEnd(32)}  ${verb}  older than`,
    ...lines,
    `${verb} ${counts.reduce((a, b) => a + b, 0)} rows`,
    '',
  ].join('\n');
}

describe.runIf(pg !== undefined)('`tidemark retention` (PostgreSQL)', () => {
  let t: TestDatabase | undefined;
  afterAll(async () => t?.dispose());

  it('--dry-run deletes nothing and says what would go; the real run deletes exactly that and keeps cold marts', async () => {
    t = await pg!.create();
    const db = t.db;
    const seeded = Date.now();
    const expected = await seedAgedRows(db, seeded);
    await db.query(`INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2020-01-01', 5, 1, 1, 3)`);
    const env = { DATABASE_URL: t.url!, HOT_RETENTION_DAYS: '7', LOG_LEVEL: 'error' };
    const counts = Object.values(expected);

    const dry = await runCli(['retention', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(withCutoffs(dry.stdout, seeded)).toBe(expectedOutput(true, counts));
    expect(await agedRowCounts(db)).toBe('4/4/4/4/5/5/7');

    const real = await runCli(['retention'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(withCutoffs(real.stdout, seeded)).toBe(expectedOutput(false, counts));
    expect(await agedRowCounts(db)).toBe('2/2/2/2/2/2/4');
    const cold = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM mart_daily_traffic`);
    expect(cold.rows[0]?.n).toBe(1);

    const audit = await db.query<{ outcome: string; detail: Record<string, unknown> }>(`SELECT outcome, detail FROM job_runs WHERE job = 'retention' ORDER BY id`);
    expect(audit.rows).toEqual([
      { outcome: 'succeeded', detail: { dry_run: true, hot_retention_days: 7, would_delete: expected } },
      { outcome: 'succeeded', detail: { dry_run: false, hot_retention_days: 7, deleted: expected } },
    ]);
  });

  it('--help describes it; a stray argument is a usage error', async () => {
    const help = await runCli(['retention', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe('tidemark retention [--dry-run]');
    const bad = await runCli(['retention', 'now'], {});
    expect(bad.code).toBe(64);
    expect(bad.stderr.split('\n')[0]).toBe("tidemark retention: unexpected argument 'now'");
  });

  it.runIf(process.env['TEST_REDIS_URL'] !== undefined)('the daily trigger of `tidemark worker` enqueues the daily flow, then runs retention', { timeout: 60_000 }, async () => {
    const handle = await pg!.create();
    const redisUrl = process.env['TEST_REDIS_URL']!;
    const queue = `test-${randomUUID()}`;
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const inspect = new Queue(queue, { connection });
    const env = {
      DATABASE_URL: handle.url!,
      REDIS_URL: redisUrl,
      LAKE_URL: `file://${mkdtempSync(join(tmpdir(), 'tidemark-lake-'))}`,
      HOT_RETENTION_DAYS: '7',
      LOG_LEVEL: 'error',
    };
    const worker = startCli(['worker', '--queue', queue, '--grace', '0s'], env);
    try {
      await seedAgedRows(handle.db, Date.now());
      const scheduled = await runCli(['schedule', '--queue', queue], env);
      expect(scheduled.code, scheduled.stderr).toBe(0);
      // Fire now instead of at 02:00: promote the scheduler's delayed job.
      const [next] = await inspect.getJobs(['delayed']);
      expect(next?.name).toBe('daily-trigger');
      await next?.promote();
      const retention = async (): Promise<{ outcome: string; requested_by: string }[]> =>
        (await handle.db.query<{ outcome: string; requested_by: string }>(`SELECT outcome, requested_by FROM job_runs WHERE job = 'retention'`)).rows;
      const deadline = Date.now() + 30_000;
      while (!(await retention()).some((r) => r.outcome !== 'running')) {
        if (Date.now() > deadline) throw new Error(`no retention run after the daily trigger; worker: ${(await Promise.race([worker.done, Promise.resolve(null)]))?.stderr ?? 'running'}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await retention()).toEqual([{ outcome: 'succeeded', requested_by: 'scheduler' }]);
      expect(await agedRowCounts(handle.db)).toBe('2/2/2/2/2/2/4');
      // The daily flow was enqueued first: its run row exists (its steps wait for the archive).
      const daily = await handle.db.query<{ run_id: string }>(`SELECT run_id FROM job_runs WHERE job = 'daily' AND step IS NULL`);
      expect(daily.rows).toEqual([{ run_id: `daily-${yesterdayIn(Date.now(), 'UTC')}` }]);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
      await inspect.obliterate({ force: true });
      await inspect.close();
      connection.disconnect();
      await handle.dispose();
    }
  });
});
