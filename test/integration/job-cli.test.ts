// The job commands as users run them: the worker (and the demo) refuse a Redis that may evict jobs, `schedule`
// prints the next run, and both need REDIS_URL. Private redis-servers, so that the shared one's
// configuration is never touched.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisEvictionProblem } from '../../src/io/queue/bullmq-queue.ts';
import { nextDailyRun } from '../../src/io/queue/daily-time.ts';
import { runCli } from '../support/run-cli.ts';
import { startPrivateRedis } from '../support/redis.ts';
import type { PrivateRedis } from '../support/redis.ts';

describe('tidemark worker / schedule', () => {
  let lru: PrivateRedis;
  let good: PrivateRedis;
  beforeAll(async () => {
    [lru, good] = await Promise.all([startPrivateRedis('allkeys-lru'), startPrivateRedis('noeviction')]);
  });
  afterAll(async () => {
    await Promise.all([lru.dispose(), good.dispose()]);
  });

  it('the worker refuses a Redis whose maxmemory-policy is allkeys-lru, in one line', async () => {
    const result = await runCli(['worker'], { REDIS_URL: lru.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tidemark worker: Redis maxmemory-policy is allkeys-lru; BullMQ needs noeviction (an evicted job is lost silently): set maxmemory-policy noeviction\n',
    );
    expect(result.stdout).toBe('');
  });

  it('the demo refuses the same Redis before it starts anything', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tidemark-demo-lru-'));
    try {
      const result = await runCli(['demo'], { REDIS_URL: lru.url, TIDEMARK_HOME: home, PORT: '0' });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        'tidemark demo: Redis maxmemory-policy is allkeys-lru; BullMQ needs noeviction (an evicted job is lost silently): set maxmemory-policy noeviction\n',
      );
      expect(result.stdout).toBe('');
      // Refused before the embedded database was opened.
      expect(await readdir(home)).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('worker and schedule need REDIS_URL', async () => {
    for (const command of ['worker', 'schedule']) {
      const result = await runCli([command], {});
      expect(result.code).toBe(78);
      expect(result.stderr).toBe(
        `tidemark: configuration error: REDIS_URL is not set; \`tidemark ${command}\` needs Redis for BullMQ (without it, backfills and the demo run in-process)\n`,
      );
    }
  });

  it('schedule upserts the daily 02:00 scheduler and prints its next run', async () => {
    const queue = `test-${randomUUID()}`;
    const before = Date.now();
    const result = await runCli(['schedule', '--queue', queue], { REDIS_URL: good.url, MART_TIMEZONE: 'Europe/Berlin' });
    expect(result.code).toBe(0);
    const match = /^daily flow scheduled at 02:00 Europe\/Berlin in queue (\S+); next run (\S+) \((\S+) 02:00 Europe\/Berlin\)\n$/.exec(result.stdout);
    expect(match?.[1]).toBe(queue);
    // 02:00 exists on every Berlin day except the spring change, which is not within a day of now.
    expect(match?.[2]).toBe(new Date(nextDailyRun(before, 2, 0, 'Europe/Berlin')).toISOString());
  });

  it('backfill rejects a date that does not exist before touching anything', async () => {
    const result = await runCli(['backfill', '--from', '2026-02-30', '--to', '2026-03-01'], {});
    expect(result.code).toBe(64);
    expect(result.stderr.split('\n')[0]).toBe('tidemark backfill: not a calendar date: "2026-02-30"');
  });

  it('a Redis with CONFIG disabled is not refused, but the check says it could not look', async () => {
    const locked = await startPrivateRedis('noeviction', ['--rename-command', 'CONFIG', '']);
    try {
      const problem = await redisEvictionProblem(locked.url);
      expect(problem?.fatal).toBe(false);
      expect(problem?.message).toMatch(/^cannot read Redis maxmemory-policy \(CONFIG GET refused: ERR unknown command 'config'.*\); make sure it is noeviction, or BullMQ may lose jobs$/);
      expect(await redisEvictionProblem(good.url)).toBeNull();
    } finally {
      await locked.dispose();
    }
  });
});
