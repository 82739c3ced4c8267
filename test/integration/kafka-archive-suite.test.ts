// Acceptance: the mart suite produced into a 3-partition topic and archived by `tidemark archive`
// (a child process) into an S3 lake: reading every object back gives exactly the suite's valid
// events (late ones and on-time copies included), each (partition, offset) once, each in the
// event_date folder of its New York date; the archive watermark and lake_days follow.
import { afterAll, describe, expect, it } from 'vitest';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { localDate } from '../../src/marts/time-zone.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { archiveEnv, waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from '../support/archive-lake.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { startCli } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();

describe.runIf(brokers !== undefined && pg !== undefined && s3 !== undefined)('tidemark archive: the mart suite from Kafka to S3', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('archives every valid event exactly once, by New York date', { timeout: 240_000 }, async () => {
    const suite = buildMartSuite();
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, suite.lines.map((value, i) => ({ key: suite.keys[i] ?? null, value })));
    const t = await pg!.create();
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    const groupId = kafka.groupId();
    const run = startCli(['archive'], archiveEnv({ databaseUrl: t.url!, brokers: kafka.brokers, topic, groupId, s3: s3!, prefix, suite, flushRows: 4000, flushInterval: '2s' }));
    try {
      const total = await waitForArchiveCatchUp(t.db, kafka.brokers, groupId, topic);
      expect(total).toBe(suite.lines.length);
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const finished = JSON.parse(result.stdout.split('\n').find((l) => l.includes('"msg":"archive finished"'))!) as Record<string, unknown>;
      expect(finished).toMatchObject({ messages: total, archived: total - suite.expected.deadLetters.length, skipped: suite.expected.deadLetters.length, orphansDeleted: 0, ended: 'stopped' });

      const objects = await readArchive(lake);
      const rows = expectWellFormedArchive(objects, suite.settings.timeZone);
      expect(rows.length).toBe(suite.lines.length - suite.expected.deadLetters.length);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(suite.lines, suite.maxFutureSkewMs));
      const archivedIds = new Set(rows.map((r) => r.eventId));
      for (const line of suite.expected.lateLines) {
        expect(archivedIds.has((JSON.parse(suite.lines[line]!) as { event_id: string }).event_id)).toBe(true);
      }
      expect(new Set(rows.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
      // The zone matters: some events sit in a different folder than their UTC date would give.
      expect(rows.some((r) => new Date(r.eventTs).toISOString().slice(0, 10) !== localDate(r.eventTs, suite.settings.timeZone))).toBe(true);

      const dates = [...new Set(objects.map((o) => o.name.eventDate))].sort();
      const days = await t.db.query<{ d: string; cold: unknown; dirty: unknown }>(
        `SELECT event_date::text AS d, cold_computed_at AS cold, dirty_since AS dirty FROM lake_days ORDER BY event_date`,
      );
      expect(days.rows).toEqual(dates.map((d) => ({ d, cold: null, dirty: null })));

      // Watermark: per partition the newest archived event_ts, the minimum over the partitions, minus the delay.
      const newest = new Map<number, number>();
      for (const r of rows) newest.set(r.partition, Math.max(newest.get(r.partition) ?? Number.NEGATIVE_INFINITY, r.eventTs));
      const expected = Math.min(...newest.values()) - suite.watermarkDelayMs;
      const wm = await t.db.query<{ wm: string }>(`SELECT (extract(epoch from watermark_ts) * 1000)::float8::text AS wm FROM archive_watermark WHERE consumer = $1`, [groupId]);
      expect(Number(wm.rows[0]?.wm)).toBe(expected);
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
      await emptyLake(lake);
      await lake.close();
      await t.dispose();
    }
  });
});
