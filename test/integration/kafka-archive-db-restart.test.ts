// `tidemark archive` while its PostgreSQL server (one of the test's own) restarts: the writer
// rides the outage out (back-off, then a fresh start from the committed state, deleting the
// uploads whose commit was lost) and every offset ends in the lake exactly once; past
// DB_OUTAGE_LIMIT it stops cleanly with one structured error line and exit code 75. Never a
// stack trace, in either case.
import { afterAll, describe, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, archivedOffsets, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { waitFor } from '../support/net.ts';
import { expectCleanStop, expectExactArchive, expectOneOutageLine, stderrOf, suiteMessages, waitForStderr } from '../support/outage-harness.ts';
import { usePrivatePostgres } from '../support/postgres.ts';
import { startCli } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

const brokers = testKafkaBrokers();
const s3 = testS3();

describe.runIf(brokers !== undefined && s3 !== undefined)('PostgreSQL restarted under `tidemark archive`', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  const pg = usePrivatePostgres();
  afterAll(() => kafka.cleanup());

  it('rides out a restart: every offset archived exactly once', { timeout: 300_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const half = Math.floor(suite.lines.length / 2);
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suiteMessages(suite, 0, half));
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const groupId = kafka.groupId();
    const env = { ...archiveEnv({ databaseUrl: pg.server.url, brokers: kafka.brokers, topic, groupId, s3: s3!, prefix, suite, flushRows: 500, flushInterval: '200ms' }), DB_OUTAGE_LIMIT: '5m' };
    const run = startCli(['archive'], env);
    const stderr = stderrOf(run);
    try {
      await waitFor('a first commit', async () => ((await archivedOffsets(pg.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await pg.server.stop('fast');
      // The second half arrives during the outage: the writer must archive it after the restart.
      await produceLines(kafka.brokers, topic, suiteMessages(suite, half));
      await waitForStderr('the writer to notice the outage', stderr, /database unavailable: waiting for it/);
      await pg.server.start();
      await waitForArchiveCatchUp(pg.db, kafka.brokers, groupId, topic, 180_000);
      run.child.kill('SIGTERM');
      expectCleanStop('archive', await run.done);
      await expectExactArchive(lake, pg.db, suite);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
      await pg.server.start().catch(() => undefined);
      await emptyLake(lake);
      await lake.close();
    }
  });

  it('past DB_OUTAGE_LIMIT exits 75 with one structured line', { timeout: 180_000 }, async () => {
    const suite = buildMartSuite({ scale: 1 });
    const topic = await kafka.createTopic(1);
    await produceLines(kafka.brokers, topic, suite.lines.slice(0, 2000).map((value) => ({ key: null, value })));
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const groupId = kafka.groupId();
    const env = { ...archiveEnv({ databaseUrl: pg.server.url, brokers: kafka.brokers, topic, groupId, s3: s3!, prefix, suite, flushRows: 500, flushInterval: '200ms' }), DB_OUTAGE_LIMIT: '3s', LOG_LEVEL: 'warn' };
    const run = startCli(['archive'], env);
    try {
      await waitFor('a first commit', async () => ((await archivedOffsets(pg.db, groupId, topic)) > 0 ? true : undefined), 120_000);
      await pg.server.stop('immediate');
      const result = await run.done;
      expectOneOutageLine('archive', result, 75, /^PostgreSQL stayed unavailable for more than 3000 ms \(DB_OUTAGE_LIMIT\): /);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
      await pg.server.start();
      await emptyLake(lake);
      await lake.close();
    }
  });
});
