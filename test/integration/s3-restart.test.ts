// The S3 server (an s3proxy of the test's own, never the shared one) restarted while
// `tidemark archive` writes to it and `tidemark stream` consumes the same topic: the writer
// retries its uploads with back-off and, once the second half of the suite (produced during the
// outage) is consumed, every valid event is in the lake exactly once and the hot marts are
// exact. Stopped during the outage, it exits 0 at once and leaves the unflushed messages to its
// next start. Past LAKE_OUTAGE_LIMIT it stops with one structured line and exit code 75.
// Never a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, archivedOffsets, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from '../support/archive-lake.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { waitFor } from '../support/net.ts';
import { expectCleanStop, expectExactArchive, expectOneOutageLine, stderrOf, suiteMessages, waitForStderr } from '../support/outage-harness.ts';
import { privateS3Available, startPrivateS3 } from '../support/private-s3.ts';
import type { PrivateS3 } from '../support/private-s3.ts';
import { startCli } from '../support/run-cli.ts';
import { uniquePrefix } from '../support/s3.ts';
import { streamEnv, waitForCatchUp, waitForStreamedSuiteMarts } from '../support/stream-harness.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

describe.runIf(brokers !== undefined && pg !== undefined && privateS3Available())('S3 server restarted under `tidemark archive` and `tidemark stream`', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  let s3: PrivateS3;

  beforeAll(async () => {
    s3 = await startPrivateS3();
  }, 180_000);

  afterAll(async () => {
    await s3?.dispose();
    await kafka.cleanup();
  });

  it('the writer rides out a restart; archive and marts exact', { timeout: 300_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const half = Math.floor(suite.lines.length / 2);
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suiteMessages(suite, 0, half));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3.config, bucket: s3.bucket, prefix });
    const streamGroup = kafka.groupId();
    const archiveGroup = kafka.groupId();
    const stream = startCli(['stream'], streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: streamGroup, suite }));
    const archive = startCli(['archive'], {
      ...archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: archiveGroup, s3, prefix, suite, flushRows: 500, flushInterval: '200ms' }),
      LAKE_OUTAGE_LIMIT: '5m',
      LOG_LEVEL: 'warn',
    });
    const archiveErr = stderrOf(archive);
    try {
      await waitFor('a first archive commit', async () => ((await archivedOffsets(t.db, archiveGroup, topic)) > 0 ? true : undefined), 120_000);
      await s3.stop();
      // The second half arrives during the outage: its flushes must wait for the store.
      await produceLines(kafka.brokers, topic, suiteMessages(suite, half));
      await waitForStderr('the writer to notice the outage', archiveErr, /lake unavailable: retrying with back-off/);
      await s3.start();
      await waitForArchiveCatchUp(t.db, kafka.brokers, archiveGroup, topic, 180_000);
      await waitForCatchUp(t.db, kafka.brokers, streamGroup, topic, { timeoutMs: 180_000 });
      await waitForStreamedSuiteMarts(t.db, suite);
      archive.child.kill('SIGTERM');
      stream.child.kill('SIGTERM');
      expectCleanStop('archive', await archive.done);
      expectCleanStop('stream', await stream.done);
      await expectExactArchive(lake, t.db, suite);
    } finally {
      stream.child.kill('SIGKILL');
      archive.child.kill('SIGKILL');
      await Promise.all([stream.done, archive.done]);
      await s3.start().catch(() => undefined);
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });

  it('SIGTERM during an outage stops at once with exit 0; the next start archives what was left', { timeout: 180_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const lines = suite.lines.slice(0, 2000);
    const topic = await kafka.createTopic(1);
    await produceLines(kafka.brokers, topic, lines.slice(0, 1000).map((value) => ({ key: null, value })));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3.config, bucket: s3.bucket, prefix });
    const groupId = kafka.groupId();
    const env = { ...archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, s3, prefix, suite, flushRows: 500, flushInterval: '200ms' }), LAKE_OUTAGE_LIMIT: '5m', LOG_LEVEL: 'warn' };
    const first = startCli(['archive'], env);
    const firstErr = stderrOf(first);
    let second: ReturnType<typeof startCli> | undefined;
    try {
      await waitFor('a first archive commit', async () => ((await archivedOffsets(t.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await s3.stop();
      await produceLines(kafka.brokers, topic, lines.slice(1000).map((value) => ({ key: null, value })));
      await waitForStderr('the writer to notice the outage', firstErr, /lake unavailable: retrying with back-off/);
      first.child.kill('SIGTERM');
      const stopped = await first.done;
      expectCleanStop('archive', stopped);
      expect(stopped.stderr).toMatch(/stopped while the lake was unavailable: the buffered messages are read again at the next start/);
      await s3.start();
      second = startCli(['archive'], env);
      await waitForArchiveCatchUp(t.db, kafka.brokers, groupId, topic, 120_000);
      second.child.kill('SIGTERM');
      expectCleanStop('archive, started again', await second.done);
      const rows = expectWellFormedArchive(await readArchive(lake), suite.settings.timeZone);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(lines, suite.maxFutureSkewMs));
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      await Promise.all([first.done, second?.done]);
      await s3.start().catch(() => undefined);
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });

  it('past LAKE_OUTAGE_LIMIT the writer exits 75 with one structured line', { timeout: 180_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const topic = await kafka.createTopic(1);
    await produceLines(kafka.brokers, topic, suite.lines.slice(0, 1000).map((value) => ({ key: null, value })));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3.config, bucket: s3.bucket, prefix });
    const groupId = kafka.groupId();
    const archive = startCli(['archive'], {
      ...archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, s3, prefix, suite, flushRows: 500, flushInterval: '200ms' }),
      LAKE_OUTAGE_LIMIT: '3s',
      LOG_LEVEL: 'warn',
    });
    try {
      await waitFor('a first archive commit', async () => ((await archivedOffsets(t.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await s3.stop();
      await produceLines(kafka.brokers, topic, suite.lines.slice(1000, 2000).map((value) => ({ key: null, value })));
      expectOneOutageLine('archive', await archive.done, 75, /^the lake s3:\/\/\S+ stayed unavailable for more than 3000 ms \(LAKE_OUTAGE_LIMIT\): /);
    } finally {
      archive.child.kill('SIGKILL');
      await archive.done;
      await s3.start();
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });
});
