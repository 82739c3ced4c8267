// `tidemark demo` on the real services (SPEC §9): with KAFKA_BROKERS and REDIS_URL set, the
// generator produces into KAFKA_TOPIC, the stream and the archive consume that topic as
// `tidemark stream` / `tidemark archive` do (hot marts, Parquet in the lake), the scheduler is a
// BullMQ worker that completes an API-started backfill, bull-board answers under /admin/queues,
// and after a restart each partition of the topic holds exactly the generated sequence's lines
// for it: nothing produced twice, nothing skipped.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoGeneratorFor } from '../../src/cli/app/demo-feed.ts';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import { partitionOfKey } from '../../src/io/kafka/kafka-producer.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { archiveWatermark } from '../../src/io/mart-store/watermarks.ts';
import { DEFAULT_QUEUE_NAME } from '../../src/jobs/job-service.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { startPrivateRedis } from '../support/redis.ts';
import type { PrivateRedis } from '../support/redis.ts';
import { startCli } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { freePort, waitFor } from '../support/net.ts';

const TOKEN = 'demo-services-token-0123';
const PARTITIONS = 3;
const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((factory) => factory.kind === 'pg');

describe.skipIf(brokers === undefined || pg === undefined)('tidemark demo with KAFKA_BROKERS and REDIS_URL', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  const home = mkdtempSync(join(tmpdir(), 'tidemark-demo-services-'));
  const lakeDir = join(home, 'lake');
  let t: TestDatabase;
  let redis: PrivateRedis;
  let topic = '';
  let env: Record<string, string> = {};
  let demo: { child: ReturnType<typeof startCli>['child']; done: Promise<CliResult> } | undefined;
  let url = '';
  const groups = { stream: kafka.groupId(), archive: kafka.groupId() };

  const start = async (): Promise<void> => {
    const port = await freePort();
    demo = startCli(['demo'], { ...env, PORT: String(port) });
    url = `http://127.0.0.1:${port}`;
    let exited: CliResult | undefined;
    void demo.done.then((r) => (exited = r));
    await waitFor('the demo to serve /healthz', async () => {
      if (exited !== undefined) throw new Error(`demo exited early (${exited.code}): ${exited.stderr}`);
      return (await fetch(`${url}/healthz`)).ok ? true : undefined;
    }).catch((error: unknown) => {
      demo?.child.kill('SIGKILL');
      throw error;
    });
  };
  const stop = async (): Promise<CliResult> => {
    const running = demo!;
    demo = undefined;
    running.child.kill('SIGINT');
    return running.done;
  };

  beforeAll(async () => {
    t = await pg!.create();
    redis = await startPrivateRedis('noeviction');
    topic = await kafka.createTopic(PARTITIONS);
    env = {
      DATABASE_URL: t.url!,
      KAFKA_BROKERS: brokers!.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: groups.stream,
      KAFKA_ARCHIVE_GROUP_ID: groups.archive,
      REDIS_URL: redis.url,
      TIDEMARK_HOME: home,
      LAKE_URL: `file://${lakeDir}`,
      TIDEMARK_API_TOKEN: TOKEN,
      GENERATOR_RATE: '20',
      DEMO_BACKFILL: '5m',
      ARCHIVE_FLUSH_INTERVAL: '1s',
      LOG_LEVEL: 'warn',
    };
    await start();
  }, 60_000);

  afterAll(async () => {
    if (demo !== undefined) {
      demo.child.kill('SIGKILL');
      await demo.done;
    }
    await kafka.cleanup();
    await redis?.dispose();
    await t?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('streams the generated traffic through Kafka into the hot marts', async () => {
    const rows = await waitFor('every partition to be committed by the stream', async () => {
      const { rows } = await t.db.query<{ consumer: string; source: string; kafka_partition: number }>(
        `SELECT consumer, source, kafka_partition FROM stream_partitions WHERE next_offset > 0 ORDER BY kafka_partition`,
      );
      return rows.length === PARTITIONS ? rows : undefined;
    });
    expect(rows).toEqual([0, 1, 2].map((p) => ({ consumer: groups.stream, source: `kafka:${topic}`, kafka_partition: p })));
    const { rows: producers } = await t.db.query<{ topic: string; base_offsets: unknown }>(`SELECT topic, base_offsets FROM generator_producers`);
    expect(producers).toEqual([{ topic, base_offsets: { '0': '0', '1': '0', '2': '0' } }]);
    // Provisional rows follow the commits within a second while a backlog is read.
    const minutes = await waitFor('traffic minutes in the hot mart', async () => {
      const { rows: counted } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM mart_realtime_traffic_minute`);
      return counted[0]!.n > 0 ? counted[0]!.n : undefined;
    });
    expect(minutes).toBeGreaterThan(0);
    // Lag on /readyz and /metrics is measured against the topic's end offsets: a number (not
    // null, as without a log to measure), at most what the topic holds.
    const inTopic = [...(await endOffsets(brokers!, topic)).values()].reduce((a, o) => a + Number(o), 0);
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { lag: number };
    expect(ready.lag).toBeGreaterThanOrEqual(0);
    expect(ready.lag).toBeLessThanOrEqual(inTopic + 10_000);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^tidemark_consumer_lag_messages \d+$/m);
  });

  it('archives the topic into the lake as Parquet', async () => {
    const files = await waitFor('Parquet in the lake', async () => {
      const found = readdirSync(join(lakeDir, 'curated'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));
      return found.length > 0 ? found : undefined;
    });
    const name = new RegExp(`^event_date=\\d{4}-\\d{2}-\\d{2}/${topic}-p000[0-2]-o\\d+-o\\d+\\.parquet$`);
    expect(files.filter((f) => !name.test(f))).toEqual([]);
    const { rows } = await t.db.query<{ consumer: string; source: string }>(`SELECT DISTINCT consumer, source FROM archive_partitions`);
    expect(rows).toEqual([{ consumer: groups.archive, source: `kafka:${topic}` }]);
  });

  it('runs an API-started backfill on BullMQ inside the demo', async () => {
    // The day is complete once the archive writer has committed a watermark past it. Parquet in
    // the lake comes first, its commit a moment later: a backfill asked for in between waits out
    // the completeness step's long not-ready back-off, well past this test's patience.
    await waitFor('the archive watermark', async () => ((await archiveWatermark(t.db)) ?? undefined));
    const post = (token?: string): Promise<Response> =>
      fetch(`${url}/api/backfill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}`}) },
        body: JSON.stringify({ from: '2026-01-05', to: '2026-01-05', marts: ['mart_daily_traffic'] }),
      });
    expect((await post()).status).toBe(401);
    const answer = await post(TOKEN);
    expect(answer.status).toBe(202);
    const runId = String(((await answer.json()) as { runId: string }).runId);
    const audit = async (): Promise<string[]> =>
      (
        await t.db.query<{ line: string }>(
          `SELECT concat_ws('|', job, coalesce(step, '-'), range_from::text, requested_by, outcome) AS line FROM job_runs WHERE run_id = $1 ORDER BY id`,
          [runId],
        )
      ).rows.map((r) => r.line);
    await waitFor('the backfill to finish', async () => ((await audit())[0]?.endsWith('|running') === false ? true : undefined), 45_000);
    expect(await audit()).toEqual([
      'backfill|-|2026-01-05|api|succeeded',
      'backfill|completeness|2026-01-05|api|succeeded',
      'backfill|cold|2026-01-05|api|succeeded',
      'backfill|reconcile|2026-01-05|api|succeeded',
      'backfill|quality|2026-01-05|api|succeeded',
    ]);
    // The steps went through BullMQ in Redis (the demo's worker took them from there).
    const client = new Redis(redis.url);
    try {
      expect(await client.zcard(`bull:${DEFAULT_QUEUE_NAME}:completed`)).toBeGreaterThanOrEqual(4);
    } finally {
      client.disconnect();
    }
  });

  it('serves bull-board under /admin/queues behind the token', async () => {
    expect((await fetch(`${url}/admin/queues`)).status).toBe(401);
    const board = await fetch(`${url}/admin/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(board.status).toBe(200);
    expect(await board.text()).toContain('<html');
  });

  it('resumes producing after a restart without duplicating or skipping a line', async () => {
    expect((await stop()).code).toBe(0);
    const before = await endOffsets(brokers!, topic);
    await start();
    const sum = (m: ReadonlyMap<number, string>): number => [...m.values()].reduce((a, o) => a + Number(o), 0);
    await waitFor('the restarted demo to produce', async () => (sum(await endOffsets(brokers!, topic)) > sum(before) + 20 ? true : undefined));
    expect((await stop()).code).toBe(0);

    // Everything in the topic, per partition, in order.
    const ends = await endOffsets(brokers!, topic);
    const inTopic = new Map<number, string[]>([0, 1, 2].map((p) => [p, []]));
    const reader = createKafkaSource({ brokers: brokers!, topic, groupId: kafka.groupId(), clientId: 'demo-services-reader' });
    await reader.start({ offsetsFor: async (_s, partitions) => new Map(partitions.map((p) => [p, null])) });
    try {
      await waitFor(
        'the whole topic',
        async () => {
          const poll = await reader.poll(5000, 500);
          if (poll.kind === 'messages') for (const m of poll.messages) inTopic.get(m.partition)!.push(Buffer.from(m.value as Uint8Array).toString('utf8'));
          return [...ends].every(([p, end]) => inTopic.get(p)!.length === Number(end)) ? true : undefined;
        },
        30_000,
      );
    } finally {
      await reader.close();
    }

    // The same sequence regenerated, split by partition as the producer splits it.
    const { rows } = await t.db.query<{ source: string }>(`SELECT source FROM generator_producers WHERE topic = $1`, [topic]);
    const generator = demoGeneratorFor(rows[0]!.source)!;
    await generator.start({ offsetsFor: async () => new Map([[0, null]]) });
    const expected = new Map<number, string[]>([0, 1, 2].map((p) => [p, []]));
    // Bounded: a topic holding more than the sequence had due (duplicates) must fail, not hang.
    const until = Date.now() + 15_000;
    while ([...ends].some(([p, end]) => expected.get(p)!.length < Number(end)) && Date.now() < until) {
      const poll = await generator.poll(5000, 100);
      if (poll.kind !== 'messages') continue;
      for (const m of poll.messages) expected.get(partitionOfKey(m.key!, PARTITIONS))!.push(String(m.value));
    }
    await generator.close();
    for (const [p, end] of ends) expect(inTopic.get(p)).toEqual(expected.get(p)!.slice(0, Number(end)));
  });
});
