// The fuzz suite: every class of malformed input (test/fuzz/malformed-classes.ts, seeded) through
// a JSON Lines file and a Kafka topic carrying the same bytes, the classes a typed Parquet
// record can carry through a Parquet file and a lake prefix, and Parquet files that cannot be
// read (truncated, not Parquet, another schema, a corrupt row group) through both of those. For
// every message: the run ends normally, every malformed one is dead-lettered with the class's
// reason and a non-empty detail, the same on every source, and every valid event is applied
// exactly once.
//
// CI runs the fixed seed. A longer random run is one command:
//   FUZZ_SEED=$RANDOM FUZZ_PER_CLASS=20 npx vitest run test/fuzz
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { archiveObjectKey } from '../../src/io/archive/archive-object-key.ts';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createParquetFileSource } from '../../src/io/file/parquet-source.ts';
import { createLakePrefixSource } from '../../src/io/lake/lake-prefix-source.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import { produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { createLogger } from '../../src/io/log.ts';
import { Registry, streamMetrics } from '../../src/io/metrics.ts';
import type { MessageSource } from '../../src/io/source.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { MALFORMED_CLASSES, PARQUET_FILE_CLASSES, PARQUET_GROUP_ROWS, fuzzMessages, fuzzRows, seededRandom, validParquetRows } from './malformed-classes.ts';
import type { FuzzMessage, ParquetFileCase } from './malformed-classes.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261206);
const PER_CLASS = Number(process.env['FUZZ_PER_CLASS'] ?? 2);
const NOW = Date.UTC(2026, 0, 11);
const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 };

const messages = fuzzMessages(SEED, PER_CLASS);
const validCount = messages.filter((m) => m.expected === 'valid').length;

interface Outcome {
  readonly applied: number;
  readonly clicks: number;
  /** Reason per offset, for every dead letter. */
  readonly reasons: ReadonlyMap<number, string>;
  readonly emptyDetails: number;
}

async function replayInto(db: Database, source: MessageSource, total: number, stopAtEnd: boolean): Promise<Outcome> {
  const stop = new AbortController();
  const registry = new Registry({ defaultMetrics: false });
  const summary = await runStream({
    metrics: streamMetrics(registry),
    db,
    source,
    consumer: 'fuzz',
    settings: SETTINGS,
    batchMaxMessages: 97,
    batchMaxWaitMs: 50,
    log: createLogger('error'),
    clock: () => NOW,
    signal: stop.signal,
    onCommit: (batch) => {
      if (stopAtEnd && batch.partitions.some((p) => p.nextOffset === String(total))) stop.abort();
    },
  });
  const dead = await db.query<{ o: string; reason: string; detail: string | null }>('SELECT kafka_offset::text AS o, reason, detail FROM dead_letter_events');
  const clicks = await db.query<{ n: string | null }>('SELECT sum(total_clicks)::text AS n FROM mart_realtime_traffic_minute');
  // The dead-letter metric counts what the table holds, reason by reason.
  const counted = (await registry.registry.getSingleMetric('tidemark_dead_letters_total')?.get())?.values ?? [];
  const byReason = (reasons: readonly string[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of reasons) out[r] = (out[r] ?? 0) + 1;
    return out;
  };
  expect(Object.fromEntries(counted.filter((v) => v.value > 0).map((v) => [String(v.labels['reason']), v.value]))).toEqual(byReason(dead.rows.map((r) => r.reason)));
  return {
    applied: summary.applied,
    clicks: Number(clicks.rows[0]?.n ?? 0),
    reasons: new Map(dead.rows.map((r) => [Number(r.o), r.reason])),
    emptyDetails: dead.rows.filter((r) => r.detail === null || r.detail === '').length,
  };
}

/** Per class, the outcomes its messages got, for a readable failure. */
function byClass(all: readonly { readonly className: string }[], reasons: ReadonlyMap<number, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  all.forEach((m, offset) => (out[m.className] ??= []).push(reasons.get(offset) ?? 'valid'));
  return out;
}

function expectedByClass(all: readonly FuzzMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of all) (out[m.className] ??= []).push(m.expected);
  return out;
}

const factory = testDatabaseFactories().at(-1)!;
const outcomes = new Map<string, Outcome>();

describe(`fuzz: ${MALFORMED_CLASSES.length} classes of malformed input, seed ${SEED}, ${PER_CLASS} per class`, () => {
  it('has at least 60 classes of malformed input', () => {
    expect(MALFORMED_CLASSES.filter((c) => c.expected !== 'valid').length).toBeGreaterThanOrEqual(60);
  });

  it('JSON Lines file: every class classified as expected, every valid event applied once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-fuzz-')), 'fuzz.jsonl');
    writeFileSync(file, Buffer.concat(messages.flatMap((m) => [m.value, Buffer.from('\n')])));
    const t = await factory.create();
    try {
      const outcome = await replayInto(t.db, createJsonLinesSource(file, () => NOW), messages.length, false);
      outcomes.set('file', outcome);
      expect(byClass(messages, outcome.reasons)).toEqual(expectedByClass(messages));
      expect(outcome.emptyDetails).toBe(0);
      expect([outcome.applied, outcome.clicks]).toEqual([validCount, validCount]);
    } finally {
      await t.dispose();
    }
  });

  const rows = fuzzRows(SEED, PER_CLASS);
  const validRows = rows.filter((r) => r.expected === 'valid').length;
  const expectedRows = (): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const r of rows) (out[r.className] ??= []).push(r.expected);
    return out;
  };

  it('Parquet file: the record classes get the reasons their JSON counterparts get, every valid event applied once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-fuzz-')), 'fuzz.parquet');
    writeFileSync(file, encodeEventsToParquet(rows.map((r) => r.row), { rowGroupSize: 7 }));
    const t = await factory.create();
    try {
      const outcome = await replayInto(t.db, createParquetFileSource(file, () => NOW), rows.length, false);
      expect(byClass(rows, outcome.reasons)).toEqual(expectedRows());
      expect(outcome.emptyDetails).toBe(0);
      expect([outcome.applied, outcome.clicks]).toEqual([validRows, validRows]);
    } finally {
      await t.dispose();
    }
  });

  it('lake prefix: the same as the Parquet file, split over objects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-fuzz-lake-'));
    const lake = openLocalFolderLake(dir);
    for (let first = 0; first < rows.length; first += 10) {
      const part = rows.slice(first, first + 10).map((r) => r.row);
      const key = archiveObjectKey({ eventDate: '2026-01-10', sourceName: 'curated.events', partition: 0, firstOffset: String(first), lastOffset: String(first + part.length - 1) });
      await lake.put(key, encodeEventsToParquet(part));
    }
    const t = await factory.create();
    try {
      const outcome = await replayInto(t.db, createLakePrefixSource(lake, '', { ownsLake: true }), rows.length, false);
      // The lake source numbers rows in its own reading order: compare per class, not per offset.
      const got = [...outcome.reasons.values()].sort();
      const want = rows.filter((r) => r.expected !== 'valid').map((r) => r.expected).sort();
      expect(got).toEqual(want);
      expect(outcome.emptyDetails).toBe(0);
      expect([outcome.applied, outcome.clicks]).toEqual([validRows, validRows]);
    } finally {
      await t.dispose();
    }
  });

  // Each class breaks its own copy of a valid file; ids never repeat across the classes.
  let built: Promise<{ name: string; expected: string; c: ParquetFileCase }[]> | undefined;
  const parquetCases = (): Promise<{ name: string; expected: string; c: ParquetFileCase }[]> => (built ??= buildParquetCases());
  const buildParquetCases = async (): Promise<{ name: string; expected: string; c: ParquetFileCase }[]> => {
    const rng = seededRandom(SEED);
    const out: { name: string; expected: string; c: ParquetFileCase }[] = [];
    for (const [i, cls] of PARQUET_FILE_CLASSES.entries()) {
      const valid = encodeEventsToParquet(validParquetRows(100_000 * (i + 1)), { rowGroupSize: PARQUET_GROUP_ROWS });
      out.push({ name: cls.name, expected: cls.expected, c: await cls.make(valid, rng) });
    }
    return out;
  };

  it('Parquet files that cannot be read: one dead letter per unreadable part, with the class\'s reason; readable rows applied once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-fuzz-'));
    const got: Record<string, unknown> = {};
    const want: Record<string, unknown> = {};
    for (const [i, { name, expected, c }] of (await parquetCases()).entries()) {
      const file = join(dir, `class-${i}.parquet`);
      writeFileSync(file, c.bytes);
      const t = await factory.create();
      try {
        const outcome = await replayInto(t.db, createParquetFileSource(file, () => NOW), 0, false);
        got[name] = { dead: [...outcome.reasons].sort((a, b) => a[0] - b[0]), emptyDetails: outcome.emptyDetails, applied: outcome.applied, clicks: outcome.clicks };
        want[name] = { dead: c.deadAt.map((o) => [o, expected]), emptyDetails: 0, applied: c.validRows, clicks: c.validRows };
      } finally {
        await t.dispose();
      }
    }
    expect(got).toEqual(want);
  });

  it('lake prefix: the same broken files among readable objects, one replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-fuzz-lake-'));
    const lake = openLocalFolderLake(dir);
    const cases = await parquetCases();
    for (const [i, { c }] of cases.entries()) await lake.put(`curated/event_date=2026-01-10/class-${String(i).padStart(2, '0')}.parquet`, c.bytes);
    const readable = validParquetRows(9_000_000);
    await lake.put('curated/event_date=2026-01-10/readable.parquet', encodeEventsToParquet(readable, { rowGroupSize: PARQUET_GROUP_ROWS }));
    const t = await factory.create();
    try {
      const outcome = await replayInto(t.db, createLakePrefixSource(lake, '', { ownsLake: true }), 0, false);
      const validRows = readable.length + cases.reduce((n, x) => n + x.c.validRows, 0);
      expect([...outcome.reasons.values()].sort()).toEqual(cases.flatMap((x) => x.c.deadAt.map(() => x.expected)).sort());
      expect(outcome.emptyDetails).toBe(0);
      expect([outcome.applied, outcome.clicks]).toEqual([validRows, validRows]);
    } finally {
      await t.dispose();
    }
  });

  const brokers = testKafkaBrokers();
  describe.runIf(brokers !== undefined)('Kafka', () => {
    const kafka = kafkaTestEnv(brokers ?? []);
    afterAll(() => kafka.cleanup());

    it('Kafka topic: the same classification as the file, every valid event applied once', { timeout: 300_000 }, async () => {
      const topic = await kafka.createTopic(1);
      await produceLines(kafka.brokers, topic, messages.map((m) => ({ key: null, value: m.value, partition: 0 })), { batchSize: 1, concurrency: 1 });
      const t = await factory.create();
      try {
        const source = createKafkaSource({ brokers: kafka.brokers, topic, groupId: kafka.groupId(), clientId: 'tidemark-fuzz', sessionTimeoutMs: 6000 });
        const outcome = await replayInto(t.db, source, messages.length, true);
        expect(byClass(messages, outcome.reasons)).toEqual(expectedByClass(messages));
        expect(outcome.emptyDetails).toBe(0);
        expect([outcome.applied, outcome.clicks]).toEqual([validCount, validCount]);
        const file = outcomes.get('file');
        if (file !== undefined) expect([...outcome.reasons].sort((a, b) => a[0] - b[0])).toEqual([...file.reasons].sort((a, b) => a[0] - b[0]));
      } finally {
        await t.dispose();
      }
    });
  });
});
