// Two archive writers in one consumer group: the second joins while the first archives, then the
// first leaves, so partitions move twice while flushes are in flight. The epoch/offset fence keeps
// a writer that lost a partition from committing it; the lake ends with every offset once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runArchive } from '../../src/io/archive/archive-writer.ts';
import type { ArchiveRunSummary } from '../../src/io/archive/archive-writer.ts';
import { endOffsets, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { createLogger } from '../../src/io/log.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archivedOffsets, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from '../support/archive-lake.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(brokers !== undefined && pg !== undefined)('two archive writers in one group', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('partitions move while flushes are in flight; every offset is archived once', { timeout: 180_000 }, async () => {
    const suite = buildMartSuite();
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const t = await pg!.create();
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-archive-rebalance-'));
    const lake = openLocalFolderLake(dir);
    const groupId = kafka.groupId();
    const writer = (name: string, stop: AbortSignal): Promise<ArchiveRunSummary> =>
      runArchive({
        db: t.db,
        lake,
        source: () => createKafkaSource({ brokers: kafka.brokers, topic, groupId, clientId: name, sessionTimeoutMs: 6000, maxBufferedMessages: 500 }),
        consumer: groupId,
        settings: {
          timeZone: suite.settings.timeZone,
          watermarkDelayMs: suite.watermarkDelayMs,
          maxFutureSkewMs: suite.maxFutureSkewMs,
          idlePartitionTimeoutMs: 3_600_000,
          limits: { maxRows: 300, maxBytes: 1 << 20, maxAgeMs: 100 },
        },
        logEndOffsets: () => endOffsets(kafka.brokers, topic),
        log: createLogger('warn', { writer: name }),
        signal: stop,
      });
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = writer('archiver-a', stopA.signal);
    let b: Promise<ArchiveRunSummary> | undefined;
    try {
      while ((await archivedOffsets(t.db, groupId, topic)) < 3000) await sleep(50);
      b = writer('archiver-b', stopB.signal);
      // Both archive for a while (after the rebalance), then A leaves and B takes everything.
      const atJoin = await archivedOffsets(t.db, groupId, topic);
      while ((await archivedOffsets(t.db, groupId, topic)) < atJoin + 6000) await sleep(50);
      stopA.abort();
      const summaryA = await a;
      expect(summaryA.ended).toBe('stopped');
      await waitForArchiveCatchUp(t.db, kafka.brokers, groupId, topic, 120_000);
      stopB.abort();
      const summaryB = await b;
      expect(summaryA.messages + summaryB.messages).toBeGreaterThanOrEqual(suite.lines.length);
      const owners = await t.db.query<{ epoch: string }>(`SELECT epoch::text AS epoch FROM archive_partitions WHERE consumer = $1`, [groupId]);
      // Every partition changed hands at least once after its first claim.
      expect(owners.rows.every((r) => Number(r.epoch) >= 2)).toBe(true);

      const objects = await readArchive(lake);
      const rows = expectWellFormedArchive(objects, suite.settings.timeZone);
      expect(rows.length).toBe(suite.lines.length - suite.expected.deadLetters.length);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(suite.lines, suite.maxFutureSkewMs));
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
    } finally {
      stopA.abort();
      stopB.abort();
      await Promise.allSettled([a, b]);
      await rm(dir, { recursive: true, force: true });
      await t.dispose();
    }
  });
});
