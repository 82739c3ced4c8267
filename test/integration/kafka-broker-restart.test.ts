// The Kafka broker (one of the test's own, never the shared one) restarted while `tidemark stream`
// and `tidemark archive` consume it: both ride the outage out — fetches restarted and the group
// joined again with back-off — and once the second half of the suite, produced after the
// restart, is consumed, the hot marts equal the reference evaluator and every valid event is in
// the lake exactly once. Past KAFKA_OUTAGE_LIMIT both stop with one structured line and exit
// code 75. Never a stack trace.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTopic, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, archivedOffsets, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { waitFor } from '../support/net.ts';
import { expectCleanStop, expectExactArchive, expectOneOutageLine, stderrOf, suiteMessages, waitForStderr } from '../support/outage-harness.ts';
import { privateKafkaAvailable, startPrivateKafka } from '../support/private-kafka.ts';
import type { PrivateKafka } from '../support/private-kafka.ts';
import { startCli } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';
import { committedMessages, streamEnv, waitForCatchUp, waitForStreamedSuiteMarts } from '../support/stream-harness.ts';

const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();

describe.runIf(pg !== undefined && s3 !== undefined && privateKafkaAvailable())('Kafka broker restarted under `tidemark stream` and `tidemark archive`', () => {
  let kafka: PrivateKafka;
  let topicNumber = 0;
  const newTopic = async (partitions: number): Promise<string> => {
    const topic = `outage-${++topicNumber}`;
    await createTopic(kafka.brokers, topic, partitions);
    return topic;
  };

  beforeAll(async () => {
    kafka = await startPrivateKafka();
  }, 240_000);

  afterAll(async () => {
    await kafka?.dispose();
  });

  it('both ride out a restart; marts and archive exact', { timeout: 400_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const half = Math.floor(suite.lines.length / 2);
    const topic = await newTopic(3);
    await produceLines(kafka.brokers, topic, suiteMessages(suite, 0, half));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const streamGroup = 'outage-stream';
    const archiveGroup = 'outage-archive';
    // No partition may count as idle while the broker is away: lateness stays per partition.
    const common = { IDLE_PARTITION_TIMEOUT: '1h', KAFKA_OUTAGE_LIMIT: '5m' };
    const stream = startCli(['stream'], { ...streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: streamGroup, suite }), ...common, STREAM_BATCH_MAX_MESSAGES: '500' });
    const archive = startCli(['archive'], {
      ...archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: archiveGroup, s3: s3!, prefix, suite, flushRows: 500, flushInterval: '200ms' }),
      ...common,
      LOG_LEVEL: 'warn',
    });
    const streamErr = stderrOf(stream);
    const archiveErr = stderrOf(archive);
    try {
      await waitFor('first commits of both', async () => ((await committedMessages(t.db, streamGroup, topic)) > 0 && (await archivedOffsets(t.db, archiveGroup, topic)) > 0 ? true : undefined), 120_000);
      await kafka.stop();
      // Down long enough that both stop delivering (their membership unconfirmed) before it returns.
      const noticed = /kafka: heartbeats stalled, revoking partitions/;
      await waitForStderr('the stream to notice the outage', streamErr, noticed);
      await waitForStderr('the archive writer to notice the outage', archiveErr, noticed);
      await kafka.start();
      // Produced after the restart: both must consume again, not merely have survived.
      await produceLines(kafka.brokers, topic, suiteMessages(suite, half));
      await waitForCatchUp(t.db, kafka.brokers, streamGroup, topic, { timeoutMs: 240_000 });
      await waitForArchiveCatchUp(t.db, kafka.brokers, archiveGroup, topic, 240_000);
      await waitForStreamedSuiteMarts(t.db, suite);
      stream.child.kill('SIGTERM');
      archive.child.kill('SIGTERM');
      expectCleanStop('stream', await stream.done);
      expectCleanStop('archive', await archive.done);
      await expectExactArchive(lake, t.db, suite);
    } finally {
      stream.child.kill('SIGKILL');
      archive.child.kill('SIGKILL');
      await Promise.all([stream.done, archive.done]);
      await kafka.start().catch(() => undefined);
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });

  it('past KAFKA_OUTAGE_LIMIT both exit 75 with one structured line', { timeout: 300_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const topic = await newTopic(1);
    await produceLines(kafka.brokers, topic, suite.lines.slice(0, 2000).map((value) => ({ key: null, value })));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const common = { KAFKA_OUTAGE_LIMIT: '3s', LOG_LEVEL: 'warn' };
    const stream = startCli(['stream'], { ...streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: 'limit-stream', suite }), ...common });
    const archive = startCli(['archive'], {
      ...archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: 'limit-archive', s3: s3!, prefix, suite, flushRows: 500, flushInterval: '200ms' }),
      ...common,
    });
    try {
      await waitFor('first commits of both', async () => ((await committedMessages(t.db, 'limit-stream', topic)) > 0 && (await archivedOffsets(t.db, 'limit-archive', topic)) > 0 ? true : undefined), 120_000);
      await kafka.stop();
      const limit = /^Kafka stayed unavailable for more than 3000 ms \(KAFKA_OUTAGE_LIMIT\): /;
      expectOneOutageLine('stream', await stream.done, 75, limit);
      expectOneOutageLine('archive', await archive.done, 75, limit);
    } finally {
      stream.child.kill('SIGKILL');
      archive.child.kill('SIGKILL');
      await Promise.all([stream.done, archive.done]);
      await kafka.start();
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });
});
