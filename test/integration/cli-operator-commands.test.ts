// `tidemark generate` (JSON Lines, Parquet, Kafka) and `tidemark status`, run as the real CLI.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createParquetFileSource } from '../../src/io/file/parquet-source.ts';
import { createTopic, deleteTopic, endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import type { MessageSource } from '../../src/io/source.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { testKafkaBrokers } from '../support/kafka.ts';
import { replayKnownEvents } from '../support/known-events.ts';
import { runCli } from '../support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-cli-ops-'));

async function drain(source: MessageSource): Promise<number> {
  await source.start({ offsetsFor: async (_s, ps) => new Map(ps.map((p) => [p, null])) });
  let n = 0;
  for (;;) {
    const polled = await source.poll(1000, 10);
    if (polled.kind === 'end') break;
    if (polled.kind === 'messages') n += polled.messages.length;
  }
  await source.close();
  return n;
}

describe('tidemark generate', () => {
  it('writes the same events to JSON Lines every time for a seed, with the bad-input trickle', async () => {
    const args = ['generate', '--events', '3000', '--rate', '20', '--start', '2026-01-10T00:00:00Z', '--seed', '9'];
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    expect(await runCli([...args, '--out', a], { TIDEMARK_HOME: dir })).toMatchObject({ code: 0, stdout: `wrote 3000 messages to ${a}\n` });
    expect((await runCli([...args, '--out', b], { TIDEMARK_HOME: dir })).code).toBe(0);
    const lines = readFileSync(a, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3000);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(JSON.parse(lines[0]!)).toMatchObject({ event_ts: expect.stringMatching(/^2026-01-10T00:00:00\.\d{3}Z$/) });
    expect(lines.filter((l) => l.includes('broken')).length).toBeGreaterThan(0);
    expect(await drain(createJsonLinesSource(a))).toBe(3000);
  });

  it('writes Parquet in the archive schema, leaving malformed messages out', async () => {
    const file = join(dir, 'events.parquet');
    const result = await runCli(['generate', '--events', '3000', '--rate', '20', '--seed', '9', '--out', file], { TIDEMARK_HOME: dir });
    expect(result.code).toBe(0);
    const written = Number(/^wrote (\d+) events/.exec(result.stdout)?.[1]);
    // 3000 messages, of which one per 1999 regular clicks is malformed.
    expect(written).toBe(2999);
    expect(await drain(createParquetFileSource(file))).toBe(written);
  });

  it('refuses a missing or doubled target', async () => {
    const result = await runCli(['generate', '--events', '10'], { TIDEMARK_HOME: dir });
    expect(result.code).toBe(64);
    expect(result.stderr.split('\n')[0]).toBe('tidemark generate: give exactly one of --kafka and --out FILE');
  });

  const brokers = testKafkaBrokers();
  it.skipIf(brokers === undefined)('produces to Kafka, keyed by session', async () => {
    const topic = `test-generate-${randomUUID()}`;
    await createTopic(brokers!, topic, 3);
    try {
      const result = await runCli(['generate', '--kafka', '--events', '500', '--clean'], { TIDEMARK_HOME: dir, KAFKA_BROKERS: brokers!.join(','), KAFKA_TOPIC: topic });
      expect(result).toMatchObject({ code: 0, stdout: `produced 500 messages to ${topic}\n` });
      let total = 0;
      for (const end of (await endOffsets(brokers!, topic)).values()) total += Number(end);
      expect(total).toBe(500);
    } finally {
      await deleteTopic(brokers!, topic);
    }
  });
});

for (const factory of testDatabaseFactories().filter((f) => f.kind === 'pg')) {
  describe('tidemark status', () => {
    it('prints consumers, bad input, job runs and drift from the database', async () => {
      const t = await factory.create();
      try {
        await replayKnownEvents(t.db);
        await t.db.query(
          `INSERT INTO job_runs (job, step, range_from, range_to, requested_by, started_at, finished_at, outcome)
           VALUES ('daily', 'reconcile', '2026-01-09', '2026-01-09', 'scheduler', '2026-01-10T02:00:00Z', '2026-01-10T02:00:03Z', 'failed')`,
        );
        await t.db.query(
          `INSERT INTO reconcile_reports (mart, event_date, rows_compared, rows_changed, rows_added, rows_removed, max_abs_diff, late_events)
           VALUES ('mart_realtime_top_docs_1h', '2026-01-09', 28800, 12, 0, 1, 3, 5)`,
        );
        const result = await runCli(['status'], { DATABASE_URL: t.url!, TIDEMARK_HOME: dir });
        expect(result.code).toBe(0);
        const out = result.stdout;
        expect(out).toMatch(/^ {2}known: watermark \+∞ \(source ended\) \(delay –\), last checkpoint \S+ \(\d+\.\d s ago\), 1 partition\(s\), 16 offsets committed$/m);
        expect(out).toContain('  lag: unknown (no Kafka configured; see /metrics of the stream process)\n');
        // Dead letters by reason; the outbox says nothing delivers it without a webhook here.
        expect(out).toContain('  last hour: 1 dead letters (invalid_json 1), 0 late events; 3 alerts in the outbox (no ALERT_WEBHOOK_URL here: nothing delivers them)\n\nArchive writers\n  (none has flushed yet)\n');
        expect(out).toMatch(/^ {2}#\d+ daily\/reconcile 2026-01-09: failed in 3\.0 s \(started 2026-01-10T02:00:00\.000Z by scheduler\)$/m);
        expect(out).toContain('  mart_realtime_top_docs_1h 2026-01-09: 12 changed, 0 added, 1 removed of 28800; max |diff| 3; 5 late events\n');
        const json = await runCli(['status', '--json'], { DATABASE_URL: t.url!, TIDEMARK_HOME: dir });
        const status = JSON.parse(json.stdout) as { consumers: { consumer: string; committed_offsets: number }[]; alerts_pending: number };
        expect(status.consumers.map((c) => [c.consumer, c.committed_offsets])).toEqual([['known', 16]]);
        expect(status.alerts_pending).toBe(3);
      } finally {
        await t.dispose();
      }
    });
  });
}
