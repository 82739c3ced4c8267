// The Kafka source against a real broker: start offsets from the checkpoint store, ordering of
// assignment changes relative to messages, group rebalances with a simulated database, backpressure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOffsets, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import type { ProduceLine } from '../../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import type { KafkaLogger, KafkaSource } from '../../src/io/kafka/kafka-source.ts';
import type { RawMessage } from '../../src/marts/types.ts';
import type { SourceHooks, SourcePoll } from '../../src/io/source.ts';
import { countMessages, fakeCheckpoints, kafkaTestEnv, pollUntil, testKafkaBrokers } from '../support/kafka.ts';

const brokers = testKafkaBrokers();
const PARTITIONS = 3;
const PER_PARTITION = 1000;
// The broker's minimum session timeout is 6 s; short sessions keep rebalances quick.
const SESSION_TIMEOUT_MS = 6000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function lines(partition: number, from: number, count: number): ProduceLine[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { key: `session-${partition}-${i % 17}`, value: JSON.stringify({ partition, i }), partition };
  });
}

const logs: { level: string; message: string }[] = [];
const logger: KafkaLogger = (level, message) => {
  logs.push({ level, message });
};

describe.skipIf(brokers === undefined)('kafka source (real broker)', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  let topic = '';
  const sources: KafkaSource[] = [];

  function source(groupId: string, maxBufferedMessages?: number): KafkaSource {
    const s = createKafkaSource({
      brokers: kafka.brokers,
      topic,
      groupId,
      clientId: 'tidemark-test',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      logger,
      ...(maxBufferedMessages === undefined ? {} : { maxBufferedMessages }),
    });
    sources.push(s);
    return s;
  }

  beforeAll(async () => {
    topic = await kafka.createTopic(PARTITIONS);
    // Small batches: the backpressure test needs record batches much smaller than the topic.
    const all = [0, 1, 2].flatMap((p) => lines(p, 0, PER_PARTITION));
    await produceLines(kafka.brokers, topic, all, { batchSize: 50 });
    const ends = await endOffsets(kafka.brokers, topic);
    expect([...ends].sort()).toEqual([
      [0, '1000'],
      [1, '1000'],
      [2, '1000'],
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled(sources.map((s) => s.close()));
    await kafka.cleanup();
  });

  it('starts every partition exactly at the stored offset, null meaning the earliest', async () => {
    const checkpoints = fakeCheckpoints([
      [0, '10'],
      [1, null],
      [2, '999'],
    ]);
    const s = source(kafka.groupId());
    await s.start(checkpoints);
    const expected = 990 + 1000 + 1;
    const results = await pollUntil(s, (rs) => countMessages(rs) >= expected);
    // Nothing beyond the expected messages arrives.
    const extra = await s.poll(1000, 1500);
    expect(extra).toEqual({ kind: 'messages', messages: [] });

    expect(results[0]).toEqual({ kind: 'assigned', source: `kafka:${topic}`, partitions: [0, 1, 2] });
    expect(results.slice(1).every((r) => r.kind === 'messages')).toBe(true);
    expect(checkpoints.calls).toHaveLength(1);
    expect(checkpoints.calls[0]!.partitions).toEqual([0, 1, 2]);

    const messages = results.flatMap((r) => (r.kind === 'messages' ? r.messages : []));
    const offsets = (p: number): number[] => messages.filter((m) => m.partition === p).map((m) => Number(m.offset));
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
    expect(offsets(0)).toEqual(range(10, 1000));
    expect(offsets(1)).toEqual(range(0, 1000));
    expect(offsets(2)).toEqual([999]);

    const m = messages.find((x) => x.partition === 0)!;
    expect(m.source).toBe(`kafka:${topic}`);
    expect(m.value).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(Buffer.from(m.value as Uint8Array).toString('utf8'))).toEqual({ partition: 0, i: 10 });
    expect(typeof m.offset).toBe('string');
    expect(m.producedAt).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(m.producedAt).toBeLessThanOrEqual(Date.now());
    expect(m.receivedAt).toBeGreaterThanOrEqual(m.producedAt!);
    expect(s.bounded).toBe(false);
    await s.close();
  });

  it('splits partitions between two members and hands them over at the stored offsets', async () => {
    const groupId = kafka.groupId();
    // The "database": next offset per partition, written with each batch as the processor would.
    const db = fakeCheckpoints();
    // What offsetsFor returned to each member the last time it was called.
    const returned = { a: new Map<number, string | null>(), b: new Map<number, string | null>() };
    const hooksOf = (who: 'a' | 'b'): SourceHooks => ({
      async offsetsFor(src, partitions) {
        const r = await db.offsetsFor(src, partitions);
        returned[who] = new Map(r);
        return r;
      },
    });
    // Offsets in the order they were processed, over both members.
    const delivered = new Map<number, number[]>([0, 1, 2].map((p) => [p, []]));
    const log: { who: string; result: SourcePoll; at: number }[] = [];
    const owned = { a: new Set<number>(), b: new Set<number>() };
    // Partitions whose first message after an 'assigned' is still to be checked against offsetsFor.
    const startsAt = { a: new Map<number, number>(), b: new Map<number, number>() };
    const violations: string[] = [];

    const handle = (who: 'a' | 'b', r: SourcePoll): void => {
      log.push({ who, result: r, at: Date.now() });
      if (r.kind === 'assigned') {
        for (const p of r.partitions) {
          owned[who].add(p);
          startsAt[who].set(p, Number(returned[who].get(p) ?? '0'));
        }
      } else if (r.kind === 'revoked') {
        for (const p of r.partitions) {
          owned[who].delete(p);
          startsAt[who].delete(p);
        }
      } else if (r.kind === 'messages') {
        for (const m of r.messages) {
          const o = Number(m.offset);
          if (!owned[who].has(m.partition)) violations.push(`${who} got ${m.partition}@${o} without owning it`);
          const start = startsAt[who].get(m.partition);
          if (start !== undefined) {
            if (o !== start) violations.push(`${who} started ${m.partition} at ${o}, stored ${start}`);
            startsAt[who].delete(m.partition);
          }
          delivered.get(m.partition)!.push(o);
          // Commit: the next offset, synchronously with the batch (one transaction).
          db.offsets.set(m.partition, String(o + 1));
        }
      }
    };

    const running = { a: true, b: true };
    const loop = async (who: 'a' | 'b', s: KafkaSource, maxMessages: number): Promise<void> => {
      while (running[who]) {
        const r = await s.poll(maxMessages, 100);
        if (r.kind === 'messages' && r.messages.length === 0) continue;
        handle(who, r);
        // A slow processor, so that partitions still hold unread messages when they move.
        if (r.kind === 'messages') await sleep(25);
      }
    };

    const a = source(groupId);
    const b = source(groupId);
    await a.start(hooksOf('a'));
    const loopA = loop('a', a, 5);
    await waitFor(() => owned.a.size === 3, 20_000, 'a owns all partitions');

    await b.start(hooksOf('b'));
    const loopB = loop('b', b, 20);
    await waitFor(() => owned.a.size > 0 && owned.b.size > 0 && owned.a.size + owned.b.size === 3, 30_000, 'a and b split the partitions');
    const aShare = [...owned.a].sort();
    // a works its share a little after the split, then stops polling and closes.
    const aBatches = (): number => log.filter((e) => e.who === 'a' && e.result.kind === 'messages').length;
    const atSplit = aBatches();
    await waitFor(() => aBatches() >= atSplit + 2, 20_000, 'a works after the split');
    running.a = false;
    await loopA;
    const stored = new Map(aShare.map((p) => [p, Number(db.offsets.get(p) ?? '0')]));
    const closedAt = Date.now();
    await a.close();

    await waitFor(() => owned.b.size === 3, 30_000, 'b takes over every partition');
    const takeover = log.find((e) => e.who === 'b' && e.at >= closedAt && e.result.kind === 'assigned')!;
    // a left the group on close: the handover does not wait for a's session to expire.
    expect(takeover.at - closedAt).toBeLessThan(SESSION_TIMEOUT_MS);
    // offsetsFor, at that moment, returned what the database held for a's partitions.
    for (const p of aShare) expect(Number(returned.b.get(p) ?? '0')).toBe(stored.get(p));
    // The test is meaningful only if a moved partition still had messages to read.
    expect(aShare.some((p) => stored.get(p)! < PER_PARTITION)).toBe(true);

    await waitFor(() => [0, 1, 2].every((p) => delivered.get(p)!.length >= PER_PARTITION), 60_000, 'everything processed');
    await sleep(500);
    running.b = false;
    await loopB;

    expect(violations).toEqual([]);
    // In processing order, each partition's offsets run 0, 1, 2 … 999 over both members: no gap, and
    // nothing below a handover offset delivered twice.
    for (const p of [0, 1, 2]) expect(delivered.get(p)).toEqual(Array.from({ length: PER_PARTITION }, (_, k) => k));
    for (const who of ['a', 'b'] as const) expect(log.find((e) => e.who === who)!.result.kind).toBe('assigned');
    await b.close();
  });

  it('bounds its buffer and pauses fetching when nobody polls', async () => {
    const s = source(kafka.groupId(), 100);
    await s.start(fakeCheckpoints());
    const first = await pollUntil(s, (rs) => rs.length >= 1);
    expect(first[0]!.kind).toBe('assigned');
    // Nobody polls for a while: fetching stops once 100 messages are waiting.
    await sleep(3000);
    const idle = s.stats();
    expect(idle.buffered).toBe(100);
    expect(idle.paused).toBe(true);
    // What the driver fetched beyond our buffer is bounded by one fetch response, far below the topic.
    expect(idle.received).toBeLessThanOrEqual(100);
    expect(idle.buffered + idle.driverBuffered).toBeLessThan(PARTITIONS * PER_PARTITION);
    await sleep(1000);
    expect(s.stats().received).toBe(idle.received);
    expect(s.stats().driverBuffered).toBe(idle.driverBuffered);

    // Polling again resumes fetching; every message arrives once, in offset order per partition.
    const rest = await pollUntil(s, (rs) => countMessages(rs) >= PARTITIONS * PER_PARTITION, { maxMessages: 30 });
    const messages: RawMessage[] = rest.flatMap((r) => (r.kind === 'messages' ? r.messages : []));
    expect(messages).toHaveLength(PARTITIONS * PER_PARTITION);
    for (const p of [0, 1, 2]) {
      expect(messages.filter((m) => m.partition === p).map((m) => Number(m.offset))).toEqual(Array.from({ length: PER_PARTITION }, (_, k) => k));
    }
    expect(s.stats().buffered).toBeLessThanOrEqual(100);
    await s.close();
  });

  it('delivers tombstones as null values', async () => {
    const t = await kafka.createTopic(1);
    await produceLines(kafka.brokers, t, [
      { key: 'k', value: '{"a":1}' },
      { key: 'k', value: null },
    ]);
    const s = createKafkaSource({ brokers: kafka.brokers, topic: t, groupId: kafka.groupId(), clientId: 'tidemark-test', logger });
    sources.push(s);
    await s.start(fakeCheckpoints());
    const results = await pollUntil(s, (rs) => countMessages(rs) >= 2);
    const messages = results.flatMap((r) => (r.kind === 'messages' ? r.messages : []));
    expect(messages.map((m) => m.value === null)).toEqual([false, true]);
    await s.close();
  });

  it('logs no warnings or errors in normal operation', () => {
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
