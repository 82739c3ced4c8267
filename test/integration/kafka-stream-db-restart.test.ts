// `tidemark stream` while its PostgreSQL server (one of the test's own) restarts: the stream
// rides the outage out (back-off, then resumes from the checkpoint) and the hot marts end exact;
// past DB_OUTAGE_LIMIT it stops cleanly with one structured error line and exit code 75. Never a
// stack trace, in either case.
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { waitFor } from '../support/net.ts';
import { usePrivatePostgres } from '../support/postgres.ts';
import { startCli } from '../support/run-cli.ts';
import { committedMessages, streamEnv, waitForCatchUp, waitForStreamedSuiteMarts } from '../support/stream-harness.ts';

const brokers = testKafkaBrokers();

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '');
}

describe.runIf(brokers !== undefined)('PostgreSQL restarted under `tidemark stream`', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  const pg = usePrivatePostgres();
  afterAll(() => kafka.cleanup());

  it('rides out a restart and the marts end exact', { timeout: 600_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const groupId = kafka.groupId();
    // Small batches, so that the restart lands while the stream is still working through the topic.
    const env = { ...streamEnv({ databaseUrl: pg.server.url, brokers: kafka.brokers, topic, groupId, suite }), STREAM_BATCH_MAX_MESSAGES: '500', DB_OUTAGE_LIMIT: '5m' };
    const stream = startCli(['stream'], env);
    let stderr = '';
    stream.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await waitFor('a first commit', async () => ((await committedMessages(pg.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await pg.server.stop('fast');
      await waitFor('the stream to notice the outage', async () => (stderr.includes('database unavailable: waiting for it') ? true : undefined), 60_000, 50).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; the stream's stderr: ${stderr.slice(-3000)}`);
      });
      await pg.server.start();
      await waitForCatchUp(pg.db, kafka.brokers, groupId, topic, { timeoutMs: 300_000 });
      stream.child.kill('SIGTERM');
      const result = await stream.done;
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(stderrLines(result.stderr).filter((l) => l.includes('"level":"error"'))).toEqual([]);
      await waitForStreamedSuiteMarts(pg.db, suite);
      const dead = await pg.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM dead_letter_events`);
      expect(Number(dead.rows[0]?.n)).toBe(suite.expected.deadLetters.length);
    } finally {
      stream.child.kill('SIGKILL');
      await stream.done;
      await pg.server.start().catch(() => undefined);
    }
  });

  it('past DB_OUTAGE_LIMIT exits 75 with one structured line', { timeout: 300_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const topic = await kafka.createTopic(1);
    await produceLines(kafka.brokers, topic, suite.lines.slice(0, 2000).map((value) => ({ key: null, value })));
    const groupId = kafka.groupId();
    const env = { ...streamEnv({ databaseUrl: pg.server.url, brokers: kafka.brokers, topic, groupId, suite }), DB_OUTAGE_LIMIT: '3s' };
    const stream = startCli(['stream'], env);
    try {
      await waitFor('a first commit', async () => ((await committedMessages(pg.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await pg.server.stop('immediate');
      const result = await stream.done;
      expect(result.code, result.stderr.slice(-2000)).toBe(75);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      const errors = stderrLines(result.stderr).filter((l) => !l.includes('"level":"warn"'));
      expect(errors).toHaveLength(1);
      const entry = JSON.parse(errors[0]!) as Record<string, unknown>;
      expect(entry['level']).toBe('error');
      expect(entry['error']).toMatch(/^PostgreSQL stayed unavailable for more than 3000 ms \(DB_OUTAGE_LIMIT\): /);
    } finally {
      stream.child.kill('SIGKILL');
      await stream.done;
      await pg.server.start();
    }
  });
});
