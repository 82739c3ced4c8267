// Acceptance: the mart suite produced into a real 3-partition Kafka topic (keyed by session_id)
// and consumed by `tidemark stream` gives the same rows as the reference evaluator, snapshot rows
// up to the newest event; SIGTERM finishes the batch, commits and exits 0.
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';
import { startCli } from '../support/run-cli.ts';
import { newestEventTs, newestSnapshot, storedRawText, streamEnv, waitForCatchUp } from '../support/stream-harness.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

describe.runIf(brokers !== undefined && pg !== undefined)('mart suite through Kafka and `tidemark stream`', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('hot marts equal the evaluator up to the newest event; late and dead letters are exact', async () => {
    const suite = buildMartSuite();
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const t = await pg!.create();
    try {
      const groupId = kafka.groupId();
      const stream = startCli(['stream'], streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, suite }));
      await waitForCatchUp(t.db, kafka.brokers, groupId, topic);
      stream.child.kill('SIGTERM');
      const result = await stream.done;
      expect(result.code).toBe(0);

      const newest = newestEventTs(suite.expected.onTimeEvents);
      const expected = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings, { newestEventTs: newest });
      const actual = await readHotMarts(t.db, { maxSnapshotTs: newestSnapshot(newest, suite.settings.topDocsEveryMs) });
      expect(actual).toEqual(expected);

      const late = await t.db.query<{ id: string }>(`SELECT event_id AS id FROM late_events ORDER BY event_id COLLATE "C"`);
      const lateIds = suite.expected.lateLines.map((i) => (JSON.parse(suite.lines[i]!) as { event_id: string }).event_id);
      expect(late.rows.map((r) => r.id)).toEqual(lateIds.sort());
      const dead = await t.db.query<{ reason: string; raw: string }>(`SELECT reason, raw_text AS raw FROM dead_letter_events`);
      const byRaw = (a: { raw: string; reason: string }, b: { raw: string; reason: string }): number => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0);
      expect(dead.rows.map((r) => ({ raw: r.raw, reason: r.reason })).sort(byRaw)).toEqual(
        suite.expected.deadLetters.map((d) => ({ raw: storedRawText(suite.lines[d.line]!), reason: d.reason })).sort(byRaw),
      );
    } finally {
      await t.dispose();
    }
  });
});
