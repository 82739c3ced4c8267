// Acceptance: the whole cold path with every real part. The mart suite is produced into a
// 3-partition Kafka topic; `tidemark archive` writes it to the S3-compatible lake while `tidemark
// stream` fills the hot marts; then `tidemark backfill` puts the daily flow for the suite's days
// on BullMQ and a `tidemark worker` process runs it. Afterwards the four cold marts are the
// reference evaluator's over every valid event (late ones included), so are the hot marts of
// those days, reconcile_reports counts exactly the rows the reconcile changed, and every quality
// check of SPEC §6.4 passed.
//
// Why three closing events. Both watermarks are max(event_ts) − 10 min over Kafka partitions that
// never end, so after the suite alone they stop inside its last day and the flow would (rightly)
// wait for the archive forever. In production later traffic moves them on; here one event per
// partition a day after the last hot-mart key does, produced once both processes have consumed
// the suite (so they cannot change how any suite line is classified). No window keyed in the
// backfilled days contains them, so the expectations for those days are the suite's alone.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { evaluateColdMarts, evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay } from '../../src/marts/time-zone.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';
import { streamEnv, waitForCatchUp } from '../support/stream-harness.ts';
import { expectQualityPassed, expectedReports, hotKeyDays, hotOnDays, lateSuiteEvents, readReports } from '../support/suite-cold-path.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();
const redisUrl = process.env['TEST_REDIS_URL']?.trim();

async function stopped(run: { child: { kill(signal: NodeJS.Signals): boolean }; done: Promise<CliResult> }): Promise<CliResult> {
  run.child.kill('SIGTERM');
  return run.done;
}

describe.runIf(brokers !== undefined && pg !== undefined && s3 !== undefined && redisUrl !== undefined)('the daily flow end to end: Kafka → archive → S3 → BullMQ worker', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('cold marts and reconciled hot marts equal the evaluator on every valid event; reports and quality exact', { timeout: 480_000 }, async () => {
    const suite = buildMartSuite();
    const zone = suite.settings.timeZone;
    const exact = evaluateHotMarts(suite.expected.allValidEvents, suite.settings);
    const streamed = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings);
    const days = hotKeyDays([exact, streamed], zone);
    expect(days).toEqual(['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11']);
    const closingTs = endOfLocalDay(days[days.length - 1]!, zone) + 12 * 3_600_000;

    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const archiveGroup = kafka.groupId();
    const streamGroup = kafka.groupId();
    const archive = startCli(['archive'], archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: archiveGroup, s3: s3!, prefix, suite, flushRows: 4000, flushInterval: '2s' }));
    const stream = startCli(['stream'], streamEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId: streamGroup, suite }));
    let worker: ReturnType<typeof startCli> | undefined;
    try {
      const caughtUp = (): Promise<unknown> =>
        Promise.all([waitForArchiveCatchUp(t.db, kafka.brokers, archiveGroup, topic), waitForCatchUp(t.db, kafka.brokers, streamGroup, topic)]);
      await caughtUp();
      const closing = [0, 1, 2].map((partition) => ({
        key: `closing-${partition}`,
        partition,
        value: JSON.stringify({
          event_id: `closing-${partition}`,
          event_ts: new Date(closingTs).toISOString(),
          session_id: `closing-${partition}`,
          document_id: 1,
          title: null,
          clinical_area: null,
        }),
      }));
      await produceLines(kafka.brokers, topic, closing);
      await caughtUp();
      for (const [name, result] of [['archive', await stopped(archive)], ['stream', await stopped(stream)]] as const) {
        expect(result.code, `${name}: ${result.stderr.slice(-2000)}`).toBe(0);
      }

      // Before the flow: the stream's rows of the backfilled days are those of the on-time events.
      const before = await readHotMarts(t.db);
      expect(hotOnDays(before, days, zone)).toEqual(streamed);

      const queue = `test-${randomUUID()}`;
      const env = {
        ...s3!.env,
        DATABASE_URL: t.url!,
        REDIS_URL: redisUrl!,
        LAKE_URL: `s3://${s3!.bucket}/${prefix}`,
        MART_TIMEZONE: zone,
        JOB_CONCURRENCY: '2',
        LOG_LEVEL: 'warn',
      };
      worker = startCli(['worker', '--queue', queue, '--grace', '5s'], env);
      const backfill = await runCli(['backfill', '--from', days[0]!, '--to', days[days.length - 1]!, '--queue', queue, '--who', 'acceptance'], env);
      expect(backfill.code, `${backfill.stdout}\n${backfill.stderr}`).toBe(0);
      const runId = /^run (backfill-\S+): 5 days × completeness,cold,reconcile,quality\n/.exec(backfill.stdout)?.[1];
      expect(runId).toBeDefined();
      const workerResult = await stopped(worker);
      worker = undefined;
      expect(workerResult.code, workerResult.stderr.slice(-2000)).toBe(0);

      // Cold marts: the evaluator over every valid event, late ones included, and nothing else.
      const expectedCold = evaluateColdMarts(suite.expected.allValidEvents, suite.settings);
      const cold = await readColdRows(t.db);
      expect(cold.dailyTraffic).toEqual(expectedCold.dailyTraffic);
      expect(cold.sessionAnalysis).toEqual(expectedCold.sessionAnalysis);
      expect(cold.clinicalAreas).toEqual(expectedCold.clinicalAreas);
      expect(cold.popularDocuments).toEqual(expectedCold.popularDocuments);

      // Hot marts of the backfilled days: the evaluator over every valid event.
      const after = await readHotMarts(t.db);
      const reconciled = hotOnDays(after, days, zone);
      expect(reconciled.traffic).toEqual(exact.traffic);
      expect(reconciled.anomalies).toEqual(exact.anomalies);
      expect(reconciled.clinicalTrend).toEqual(exact.clinicalTrend);
      expect(reconciled.topDocs).toEqual(exact.topDocs);

      // reconcile_reports: exactly the rows that differ between before and after, per (day, mart).
      const late = lateSuiteEvents(suite);
      const reports = expectedReports(before, after, days, zone, late.values());
      expect(await readReports(t.db)).toEqual(reports);
      expect(reports.reduce((n, r) => n + r.changed + r.added + r.removed, 0)).toBeGreaterThan(0);
      expect(reports.filter((r) => r.mart === 'mart_realtime_traffic_minute').reduce((n, r) => n + r.late, 0)).toBe(late.size);

      await expectQualityPassed(t.db, days, expectedCold);

      // The audit: one run by the requester, every (day, step) succeeded exactly once.
      const run = await t.db.query<{ outcome: string; requested_by: string; from: string; to: string }>(
        `SELECT outcome, requested_by, range_from::text AS from, range_to::text AS to FROM job_runs WHERE run_id = $1 AND step IS NULL`,
        [runId],
      );
      expect(run.rows).toEqual([{ outcome: 'succeeded', requested_by: 'acceptance', from: days[0], to: days[days.length - 1] }]);
      const steps = await t.db.query<{ step: string; date: string; n: number }>(
        `SELECT step, range_from::text AS date, count(*)::int AS n FROM job_runs WHERE run_id = $1 AND step IS NOT NULL AND outcome = 'succeeded'
          GROUP BY step, range_from ORDER BY range_from, step`,
        [runId],
      );
      expect(steps.rows).toEqual(days.flatMap((date) => ['cold', 'completeness', 'quality', 'reconcile'].map((step) => ({ step, date, n: 1 }))));
    } finally {
      archive.child.kill('SIGKILL');
      stream.child.kill('SIGKILL');
      worker?.child.kill('SIGKILL');
      await Promise.all([archive.done, stream.done, worker?.done]);
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });
});
