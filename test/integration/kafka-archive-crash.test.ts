// Acceptance: `tidemark archive` killed with SIGKILL at staggered moments (6 times) while it
// archives 51k events from a 3-partition topic, with small, partly time-based flushes so that a
// restarted writer cuts its ranges at other offsets than the killed one. Once the last run has
// caught up, every offset of the topic holding a valid event is in the lake exactly once, no
// two objects of a partition overlap, and no flush intent is left.
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, archivedOffsets, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from '../support/archive-lake.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { startCli } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(brokers !== undefined && pg !== undefined && s3 !== undefined)('kill -9 while archiving from Kafka', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('every offset is in the lake exactly once after 6 kills', { timeout: 300_000 }, async () => {
    const suite = buildMartSuite({ scale: 2 });
    expect(suite.lines.length).toBeGreaterThanOrEqual(50_000);
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const total = suite.lines.length;
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const groupId = kafka.groupId();
    // 600-message flushes, or every 150 ms: a restart rarely cuts where the killed run did.
    const env = archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, s3: s3!, prefix, suite, flushRows: 600, flushInterval: '150ms' });
    const children: ReturnType<typeof startCli>[] = [];
    try {
      // Kill once a run has archived another tenth of the topic, plus a little jitter: driven by
      // progress, not by time, so every kill lands mid-stream however fast the machine is.
      const pauses = [70, 130, 45, 110, 90, 160];
      const committedAtKill: number[] = [];
      let killsLeavingIntents = 0;
      for (const pause of pauses) {
        const run = startCli(['archive'], env);
        children.push(run);
        const before = await archivedOffsets(t.db, groupId, topic);
                const deadline = Date.now() + 60_000;
        while ((await archivedOffsets(t.db, groupId, topic)) < before + total / 10 && Date.now() < deadline) await sleep(20);
        await sleep(pause);
        run.child.kill('SIGKILL');
        const result = await run.done;
        expect(result.signal).toBe('SIGKILL');
        committedAtKill.push(await archivedOffsets(t.db, groupId, topic));
        const intents = await t.db.query(`SELECT 1 FROM archive_intents LIMIT 1`);
        if (intents.rows.length > 0) killsLeavingIntents++;
      }
      expect(committedAtKill.filter((c) => c > 0 && c < total).length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < committedAtKill.length; i++) expect(committedAtKill[i]).toBeGreaterThanOrEqual(committedAtKill[i - 1]!);

      const resumeFrom = await archivedOffsets(t.db, groupId, topic);
      const leftover = await t.db.query<{ n: string }>(`SELECT count(DISTINCT object_key)::text AS n FROM archive_intents`);
      // Owners bump a partition's epoch when they take it: once this run has, its signal handlers
      // are installed, so the SIGTERM below tests the graceful stop and not a process still loading.
      const epochs = async (): Promise<number> =>
        Number((await t.db.query<{ n: string }>(`SELECT coalesce(sum(epoch), 0)::text AS n FROM archive_partitions`)).rows[0]?.n ?? 0);
      const epochsBefore = await epochs();
      const last = startCli(['archive'], env);
      children.push(last);
      const claimDeadline = Date.now() + 60_000;
      while ((await epochs()) === epochsBefore && Date.now() < claimDeadline) await sleep(50);
      await waitForArchiveCatchUp(t.db, kafka.brokers, groupId, topic, 180_000);
      last.child.kill('SIGTERM');
      const result = await last.done;
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const finished = JSON.parse(result.stdout.split('\n').find((l) => l.includes('"msg":"archive finished"'))!) as Record<string, number>;
      // The restart read exactly the uncommitted tail, after deleting what the last kill left behind.
      expect(finished.messages).toBe(total - resumeFrom);
      expect(finished.orphansDeleted).toBe(Number(leftover.rows[0]?.n));

      const objects = await readArchive(lake);
      const rows = expectWellFormedArchive(objects, suite.settings.timeZone);
      expect(rows.length).toBe(total - suite.expected.deadLetters.length);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(suite.lines, suite.maxFutureSkewMs));
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
      // How many kills hit a flush between its intent and its commit (the case the intents solve).
      process.stdout.write(`archive crash test: ${killsLeavingIntents} of ${pauses.length} kills left a flush intent behind; ${objects.length} objects\n`);
    } finally {
      for (const child of children) child.child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.done));
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });
});
