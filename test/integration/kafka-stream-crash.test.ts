// Acceptance: `tidemark stream` killed with SIGKILL at random moments (≥ 5 times) while it
// consumes ≥ 200k events from Kafka; once it has caught up, the hot marts are exactly what an
// uninterrupted run gives (the reference evaluator), and a restart resumes from the stored
// offsets instead of re-reading the topic (the 24 h windows come from the checkpoint). It runs
// once more with the CPU loaded by two busy processes (on a smaller suite), so that a result
// that depends on timing shows up here and not on a user's busy server.
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { startCpuLoad } from '../support/cpu-load.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { startCli } from '../support/run-cli.ts';
import { committedMessages, expectStreamedSuiteMarts, streamEnv, waitForCatchUp } from '../support/stream-harness.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(brokers !== undefined && pg !== undefined)('kill -9 while consuming from Kafka', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  const variants = [
    { name: 'marts are exact after 6 kills; a restart reads only what was not committed', scale: 8, minLines: 200_000, loaded: false },
    { name: 'the same with the CPU loaded', scale: 2, minLines: 50_000, loaded: true },
  ];
  for (const variant of variants) it(variant.name, { timeout: 900_000 }, async () => {
    const suite = buildMartSuite({ scale: variant.scale });
    expect(suite.lines.length).toBeGreaterThanOrEqual(variant.minLines);
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const total = suite.lines.length;
    const t = await pg!.create();
    const children: ReturnType<typeof startCli>[] = [];
    const load = variant.loaded ? startCpuLoad(2) : null;
    try {
      const groupId = kafka.groupId();
      const env = streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, suite });
      // Kills at deterministic points of progress (a fixed pause could outlast the whole stream):
      // each run is killed once the checkpoint holds the next eighth of the topic, mid-batch.
      const committedAtKill: number[] = [];
      for (let k = 1; k <= 6; k++) {
        const run = startCli(['stream'], env);
        children.push(run);
        const target = Math.floor((total * k) / 8);
        const deadline = Date.now() + 120_000;
        while ((await committedMessages(t.db, groupId, topic)) < target && Date.now() < deadline) await sleep(20);
        run.child.kill('SIGKILL');
        const result = await run.done;
        expect(result.signal).toBe('SIGKILL');
        committedAtKill.push(await committedMessages(t.db, groupId, topic));
      }
      expect(committedAtKill.filter((c) => c > 0 && c < total).length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < committedAtKill.length; i++) expect(committedAtKill[i]).toBeGreaterThanOrEqual(committedAtKill[i - 1]!);

      const resumeFrom = await committedMessages(t.db, groupId, topic);
      const last = startCli(['stream'], { ...env, LOG_LEVEL: 'info' });
      children.push(last);
      await waitForCatchUp(t.db, kafka.brokers, groupId, topic, { timeoutMs: 480_000 });
      last.child.kill('SIGTERM');
      const result = await last.done;
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const finished = result.stdout.split('\n').find((l) => l.includes('"msg":"stream finished"'));
      expect(finished).toBeDefined();
      // The restart read exactly the uncommitted tail of the topic, not hours of history.
      expect((JSON.parse(finished!) as { messages: number }).messages).toBe(total - resumeFrom);

      await expectStreamedSuiteMarts(t.db, suite);
      const dead = await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM dead_letter_events`);
      expect(Number(dead.rows[0]?.n)).toBe(suite.expected.deadLetters.length);
    } finally {
      load?.stop();
      // A failed assertion must not leave a stream process connected to the database.
      for (const child of children) child.child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.done));
      await t.dispose();
    }
  });
});
