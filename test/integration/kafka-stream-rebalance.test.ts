// Acceptance: three `tidemark stream` instances in one consumer group; one is stopped and
// another added mid-stream. The partitions move between instances, yet the hot marts — combined
// from every partition's partial aggregates — are exact. It runs once more with the CPU loaded
// by two busy processes, so that a result that depends on timing (a CI run on a loaded host once
// recorded late events twice) shows up here and not on a user's busy server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { startCpuLoad } from '../support/cpu-load.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { startCli } from '../support/run-cli.ts';
import { committedMessages, expectStreamedSuiteMarts, streamEnv, waitForCatchUp, waitForStreamedSuiteMarts } from '../support/stream-harness.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(brokers === undefined || pg === undefined)('rebalance across three instances', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  for (const loaded of [false, true]) it(`one instance stopped and one added mid-stream: rows exact${loaded ? ', CPU loaded' : ''}`, { timeout: 600_000 }, async () => {
    const suite = buildMartSuite({ scale: 2 });
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const total = suite.lines.length;
    const t = await pg!.create();
    const runs: { name: string; run: ReturnType<typeof startCli> }[] = [];
    const load = loaded ? startCpuLoad(2) : null;
    try {
      const groupId = kafka.groupId();
      const env = streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, suite });
      // Small batches so the stream is still running when the group changes.
      const slow = { ...env, STREAM_BATCH_MAX_MESSAGES: '500', LOG_LEVEL: 'info' };
      const start = (name: string): ReturnType<typeof startCli> => {
        const run = startCli(['stream'], slow);
        runs.push({ name, run });
        return run;
      };
      // Every instance's log (info level: group joins, assignments) goes to test-artifacts.
      const saveLogs = async (): Promise<string> => {
        for (const r of runs) r.run.child.kill('SIGKILL');
        process.stderr.write(`${mark()}\n`);
        mkdirSync(ARTIFACTS, { recursive: true });
        for (const r of runs) {
          const out = await r.run.done;
          writeFileSync(join(ARTIFACTS, `rebalance-${loaded ? 'loaded-' : ''}${r.name}.log`), `${out.stdout}\n--- stderr ---\n${out.stderr}`);
        }
        return `instance logs in ${ARTIFACTS}/rebalance-*.log`;
      };
      const waitFor = async (fraction: number): Promise<void> => {
        const deadline = Date.now() + 240_000;
        while ((await committedMessages(t.db, groupId, topic)) < total * fraction) {
          if (Date.now() > deadline) {
            throw new Error(`no progress to ${fraction}; ${await saveLogs()}`);
          }
          await sleep(200);
        }
      };
      const began = Date.now();
      const marks: string[] = [];
      const mark = (what?: string): string => {
        if (what !== undefined) marks.push(`+${((Date.now() - began) / 1000).toFixed(1)}s ${what}`);
        return marks.join('\n');
      };
      const a = start('a');
      const b = start('b');
      const c = start('c');
      await waitFor(0.25);
      mark('25 % committed; stopping b');
      b.child.kill('SIGTERM');
      const stopped = await b.done;
      mark('b stopped');
      expect(stopped.code, stopped.stderr.slice(-3000)).toBe(0);
      await waitFor(0.5);
      mark('50 % committed; starting d');
      const d = start('d');
      try {
        await waitForCatchUp(t.db, kafka.brokers, groupId, topic, { timeoutMs: 240_000, settleMs: 4000 });
      } catch (error) {
        throw new Error(`${(error as Error).message}; ${await saveLogs()}`, { cause: error });
      }
      mark('caught up');
      await waitForStreamedSuiteMarts(t.db, suite);
      mark('marts settled');
      for (const run of [a, c, d]) run.child.kill('SIGTERM');
      for (const run of [a, c, d]) {
        const done = await run.done;
        expect(done.code, done.stderr.slice(-3000)).toBe(0);
      }
      mark('a, c, d stopped');

      await saveLogs();
      await expectStreamedSuiteMarts(t.db, suite);
    } finally {
      load?.stop();
      for (const r of runs) r.run.child.kill('SIGKILL');
      await Promise.all(runs.map((r) => r.run.done));
      await t.dispose();
    }
  });
});
