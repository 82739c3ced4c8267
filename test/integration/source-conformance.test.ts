// One conformance suite for the source port (src/io/source.ts), run on every adapter: Kafka (real
// broker), JSON Lines file, Parquet file, the bounded generator and the live generator. Each must
// announce its partitions before their first message, deliver messages in offset order per
// partition, end when bounded (and only then), and restart from the offsets the hooks return.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createParquetFileSource } from '../../src/io/file/parquet-source.ts';
import { generateClicks } from '../../src/io/generator/click-generator.ts';
import { createGeneratorSource, createLiveGeneratorSource } from '../../src/io/generator/generator-source.ts';
import { createTopic, deleteTopic, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import type { ArchiveRow } from '../../src/io/lake/parquet-events.ts';
import type { MessageSource } from '../../src/io/source.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { testKafkaBrokers } from '../support/kafka.ts';

interface SourceCase {
  readonly name: string;
  readonly bounded: boolean;
  /** Messages per partition the source holds. */
  readonly counts: ReadonlyMap<number, number>;
  create(): MessageSource;
  cleanup?(): Promise<void>;
}

interface Collected {
  readonly events: ({ kind: 'assigned' | 'revoked'; partitions: readonly number[] } | { kind: 'message'; partition: number; offset: number } | { kind: 'end' })[];
}

const TOTAL = 60;
const START = Date.parse('2026-01-10T10:00:00Z');

function clickLines(count: number): { key: string; value: string }[] {
  const lines: { key: string; value: string }[] = [];
  for (const c of generateClicks({ startMs: START, eventsPerSecond: 5, seed: 7, anomalyEvery: 0 })) {
    lines.push({ key: c.key, value: c.value });
    if (lines.length >= count) break;
  }
  return lines;
}

/** Polls until every expected message arrived (and, for a bounded source, until it ends). */
async function collect(source: MessageSource, c: SourceCase, startAt: number): Promise<Collected> {
  const events: Collected['events'] = [];
  let expected = 0;
  for (const n of c.counts.values()) expected += Math.max(0, n - startAt);
  await source.start({ offsetsFor: async (_s, partitions) => new Map(partitions.map((p) => [p, startAt === 0 ? null : String(startAt)])) });
  const deadline = Date.now() + 60_000;
  let received = 0;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${c.name}: ${received} of ${expected} messages within the time limit`);
      const polled = await source.poll(25, 200);
      if (polled.kind === 'end') {
        events.push({ kind: 'end' });
        break;
      }
      if (polled.kind === 'assigned' || polled.kind === 'revoked') {
        events.push({ kind: polled.kind, partitions: polled.partitions });
        continue;
      }
      for (const m of polled.messages) events.push({ kind: 'message', partition: m.partition, offset: Number(m.offset) });
      received += polled.messages.length;
      // An unbounded source never ends: stop once everything it holds has arrived.
      if (!c.bounded && received >= expected) break;
    }
  } finally {
    await source.close();
  }
  return { events };
}

function checkContract(c: SourceCase, collected: Collected, startAt: number): void {
  const assigned = new Set<number>();
  const offsets = new Map<number, number[]>();
  for (const e of collected.events) {
    if (e.kind === 'assigned') for (const p of e.partitions) assigned.add(p);
    else if (e.kind === 'revoked') for (const p of e.partitions) assigned.delete(p);
    else if (e.kind === 'message') {
      expect(assigned.has(e.partition), `${c.name}: message of partition ${e.partition} before its assignment`).toBe(true);
      offsets.set(e.partition, [...(offsets.get(e.partition) ?? []), e.offset]);
    }
  }
  const ends = collected.events.filter((e) => e.kind === 'end').length;
  expect(ends).toBe(c.bounded ? 1 : 0);
  if (c.bounded) expect(collected.events.at(-1)?.kind).toBe('end');
  // In offset order, each offset once, starting exactly at the offset the hooks returned.
  for (const [partition, count] of c.counts) {
    const got = offsets.get(partition) ?? [];
    // The live generator holds more than `count` (it never runs dry): its extra messages must
    // continue the same sequence.
    const length = c.bounded || c.name === 'Kafka' ? Math.max(0, count - startAt) : Math.max(got.length, count - startAt);
    const expected = Array.from({ length }, (_, i) => startAt + i);
    expect(got, `${c.name} partition ${partition}`).toEqual(expected);
  }
  expect([...offsets.keys()].every((p) => c.counts.has(p))).toBe(true);
}

async function fileCases(): Promise<SourceCase[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-source-'));
  const lines = clickLines(TOTAL);
  const jsonl = join(dir, 'events.jsonl');
  writeFileSync(jsonl, `${lines.map((l) => l.value).join('\n')}\n`);
  const parquet = join(dir, 'events.parquet');
  const rows: ArchiveRow[] = lines.map((l, i) => {
    const parsed = parseRawMessage(l.value, { nowMs: Number.MAX_SAFE_INTEGER, maxFutureSkewMs: 0 });
    if (!parsed.ok) throw new Error(parsed.detail);
    return { ...parsed.event, partition: 0, offset: String(i) };
  });
  // Small row groups, so a restart offset falls inside a later group.
  writeFileSync(parquet, encodeEventsToParquet(rows, { rowGroupSize: 16 }));
  const one = new Map([[0, TOTAL]]);
  const generator = { startMs: START, eventsPerSecond: 5, seed: 3, lateEvery: 7, duplicateEvery: 11, malformedEvery: 13 };
  return [
    { name: 'JSON Lines file', bounded: true, counts: one, create: () => createJsonLinesSource(jsonl) },
    { name: 'Parquet file', bounded: true, counts: one, create: () => createParquetFileSource(parquet) },
    { name: 'generator (bounded)', bounded: true, counts: one, create: () => createGeneratorSource('conformance', TOTAL, generator) },
    // History in the past is due at once; the live source holds far more than TOTAL but never ends.
    { name: 'generator (live)', bounded: false, counts: one, create: () => createLiveGeneratorSource({ name: 'conformance', generator }) },
  ];
}

async function kafkaCase(brokers: readonly string[]): Promise<SourceCase> {
  const topic = `test-conformance-${randomUUID()}`;
  await createTopic(brokers, topic, 3);
  // 20 messages per partition, placed explicitly so the expected offsets are known.
  const lines = clickLines(TOTAL).map((l, i) => ({ ...l, partition: i % 3 }));
  await produceLines(brokers, topic, lines);
  return {
    name: 'Kafka',
    bounded: false,
    counts: new Map([[0, 20], [1, 20], [2, 20]]),
    create: () => createKafkaSource({ brokers, topic, groupId: `test-${randomUUID()}`, clientId: 'tidemark-test', sessionTimeoutMs: 6000 }),
    cleanup: () => deleteTopic(brokers, topic),
  };
}

describe('source port conformance', async () => {
  const cases = await fileCases();
  const brokers = testKafkaBrokers();
  if (brokers !== undefined) cases.push(await kafkaCase(brokers));

  for (const c of cases) {
    describe(c.name, () => {
      it('announces partitions first, delivers every message in offset order, ends only when bounded', async () => {
        checkContract(c, await collect(c.create(), c, 0), 0);
      });

      it('restarts from the offsets the hooks return', async () => {
        try {
          checkContract(c, await collect(c.create(), c, 7), 7);
        } finally {
          await c.cleanup?.();
        }
      });
    });
  }
});
