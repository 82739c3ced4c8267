// Acceptance (issue: completeness that ends): three days of events in a 3-partition topic,
// consumed by `tidemark stream` and `tidemark archive`, both stopped; then `tidemark backfill`
// over the three days computes all three — the last one too, though no event will ever move a
// watermark past its end — by idleness alone, without --assume-complete. The archive writer
// raised its own watermark while it ran idle; the stopped stream counts as idle from the reader's
// side (every offset committed, last commit older than IDLE_PARTITION_TIMEOUT). The cold marts
// equal the reference evaluator's.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/io/db/database.ts';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { evaluateColdMarts } from '../../src/marts/reference-evaluator.ts';
import { endOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ClickEvent } from '../../src/marts/types.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import { waitForArchiveCatchUp } from '../support/archive-harness.ts';
import { dayEvents } from '../support/cold-path-fixtures.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import { committedMessages } from '../support/stream-harness.ts';
import { expectQualityPassed } from '../support/suite-cold-path.ts';

const ZONE = 'Europe/Berlin';
const SETTINGS = { ...DEFAULT_MART_SETTINGS, timeZone: ZONE };
const DAYS = ['2026-03-08', '2026-03-09', '2026-03-10'];
const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

function line(e: ClickEvent): string {
  return JSON.stringify({
    event_id: e.eventId,
    event_ts: new Date(e.eventTs).toISOString(),
    session_id: e.sessionId,
    document_id: e.documentId,
    title: e.title,
    clinical_area: e.clinicalArea,
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scalar(db: Queryable, sql: string, params: readonly unknown[] = []): Promise<unknown> {
  const { rows } = await db.query<{ v: unknown }>(sql, params);
  return rows[0]?.v;
}

describe.runIf(brokers !== undefined && pg !== undefined)('the last day of a stopped stream completes', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('backfill computes all three days by idleness, and the cold marts equal the reference evaluator', { timeout: 400_000 }, async () => {
    const events = DAYS.flatMap((d, i) => dayEvents(d, 240 + 30 * i, `v${i}`, ZONE));
    const topic = await kafka.createTopic(3);
    await produceLines(kafka.brokers, topic, events.map((e) => ({ key: e.sessionId, value: line(e) })));
    const t = await pg!.create();
    const root = mkdtempSync(join(tmpdir(), 'tidemark-lake-'));
    const streamGroup = kafka.groupId();
    const archiveGroup = kafka.groupId();
    const common = {
      DATABASE_URL: t.url!,
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: streamGroup,
      KAFKA_ARCHIVE_GROUP_ID: archiveGroup,
      KAFKA_SESSION_TIMEOUT: '6s',
      LAKE_URL: `file://${root}`,
      MART_TIMEZONE: ZONE,
      WATERMARK_DELAY: '1m',
      LOG_LEVEL: 'warn',
    };
    const stream = startCli(['stream'], { ...common, IDLE_PARTITION_TIMEOUT: '1h', STREAM_BATCH_MAX_WAIT: '100ms' });
    // The archive writer goes idle after 2 s without messages: its watermark then follows the wall clock.
    const archive = startCli(['archive'], { ...common, IDLE_PARTITION_TIMEOUT: '2s', ARCHIVE_FLUSH_INTERVAL: '1s' });
    try {
      await waitForArchiveCatchUp(t.db, kafka.brokers, archiveGroup, topic);
      await until('the stream has committed every offset', async () => (await committedMessages(t.db, streamGroup, topic)) === events.length);
      const lastDayEnd = endOfLocalDay(DAYS[2]!, ZONE);
      await until('the idle archive writer has moved its watermark past the last day', async () =>
        Number(await scalar(t.db, `SELECT (extract(epoch FROM watermark_ts) * 1000)::float8 AS v FROM archive_watermark WHERE consumer = $1`, [archiveGroup])) >= lastDayEnd,
      );
      for (const child of [stream, archive]) {
        child.child.kill('SIGTERM');
        const result = await child.done;
        expect(result.code, result.stderr.slice(-2000)).toBe(0);
      }
      // The stopped stream's own watermark stays inside the last day: only idleness can end it.
      const streamWatermark = Number(await scalar(t.db, `SELECT (extract(epoch FROM watermark_ts) * 1000)::float8 AS v FROM stream_consumers WHERE consumer = $1`, [streamGroup]));
      expect(streamWatermark).toBeLessThan(lastDayEnd);
      // Idle: the stream's last commit is older than the backfill's IDLE_PARTITION_TIMEOUT (1 s).
      await until('the stream has been idle for a second', async () =>
        (await scalar(t.db, `SELECT max(updated_at) < now() - interval '1 second' AS v FROM stream_partitions WHERE consumer = $1`, [streamGroup])) === true,
      );

      const backfill = await runCli(['backfill', '--from', DAYS[0]!, '--to', DAYS[2]!, '--who', 'night-shift'], { ...common, IDLE_PARTITION_TIMEOUT: '1s' });
      expect(backfill.code, `${backfill.stdout}\n${backfill.stderr}`).toBe(0);
      expect(backfill.stdout).toMatch(/\nrun backfill-\S+: succeeded in /);

      const expected = evaluateColdMarts(events, SETTINGS);
      expect(await readColdRows(t.db)).toEqual(expected);
      await expectQualityPassed(t.db, DAYS, expected);
      const steps = await t.db.query<{ date: string; step: string; outcome: string }>(
        `SELECT range_from::text AS date, step, outcome FROM job_runs WHERE step IS NOT NULL AND outcome <> 'not_ready' ORDER BY range_from, step`,
      );
      expect(steps.rows).toEqual(DAYS.flatMap((date) => ['cold', 'completeness', 'quality', 'reconcile'].map((step) => ({ date, step, outcome: 'succeeded' }))));
    } finally {
      for (const child of [stream, archive]) {
        child.child.kill('SIGKILL');
        await child.done;
      }
      await rm(root, { recursive: true, force: true });
      await t.dispose();
    }
  });
});
