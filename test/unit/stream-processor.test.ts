// The stream processor against the reference evaluator on seeded random streams: whatever the
// batch sizes, after the final watermark the hot rows equal the evaluator's on the on-time events.
import { describe, expect, it } from 'vitest';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import type { ClickEvent, MartSettings, RawMessage } from '../../src/marts/types.ts';
import { StreamProcessor } from '../../src/stream/stream-processor.ts';
import type { Frontiers, PartitionCheckpoint, StoredBucket } from '../../src/stream/checkpoint-types.ts';
import { InMemoryMarts } from '../support/in-memory-marts.ts';

const T0 = Date.UTC(2026, 2, 7, 12, 0, 0);
const MIN = 60_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Generated {
  readonly messages: RawMessage[];
  readonly onTime: ClickEvent[];
}

/** Events in roughly event-time order with ≤ 2 min jitter, bursts for anomalies, and a few late events. */
function generate(seed: number, count: number, partitions = 1): Generated {
  const random = rng(seed);
  const raw: { event: ClickEvent; late: boolean }[] = [];
  let clock = T0;
  for (let i = 0; i < count; i++) {
    clock += Math.floor(random() * 9000);
    const burst = random() < 0.02;
    const session = burst ? 'bot' : `s${Math.floor(random() * 40)}`;
    const n = burst ? 60 : 1;
    for (let k = 0; k < n; k++) {
      const ts = clock - Math.floor(random() * 2 * MIN) + k * 1000;
      const doc = String(Math.floor(Math.pow(random(), 3) * 60));
      raw.push({
        event: {
          eventId: `e${i}-${k}`,
          eventTs: ts,
          sessionId: session,
          documentId: doc,
          title: random() < 0.2 ? null : `title ${doc} v${Math.floor(random() * 3)}`,
          clinicalArea: ['cardiology', 'oncology', 'unknown', 'neurology'][Math.floor(random() * 4)]!,
        },
        late: false,
      });
    }
    if (i > 100 && random() < 0.01) {
      raw.push({ event: { eventId: `late${i}`, eventTs: clock - 3 * 3_600_000, sessionId: 's1', documentId: '1', title: null, clinicalArea: 'late-area' }, late: true });
    }
  }
  const offsets = new Array<number>(partitions).fill(0);
  const messages = raw.map(({ event }) => {
    const partition = partitions === 1 ? 0 : [...event.sessionId].reduce((h, c) => h + c.charCodeAt(0), 0) % partitions;
    const value = JSON.stringify({
      event_id: event.eventId,
      event_ts: new Date(event.eventTs).toISOString(),
      session_id: event.sessionId,
      document_id: event.documentId,
      title: event.title,
      clinical_area: event.clinicalArea === 'unknown' ? null : event.clinicalArea,
    });
    return { source: 'test', partition, offset: String(offsets[partition]!++), value, receivedAt: 0 };
  });
  return { messages, onTime: raw.filter((r) => !r.late).map((r) => r.event) };
}

function emptyCheckpoint(partition: number): PartitionCheckpoint {
  return { source: 'test', partition, nextOffset: null, maxEventTs: Number.NEGATIVE_INFINITY, watermark: Number.NEGATIVE_INFINITY, anomaly: {}, buckets: [], pendingEvents: [] };
}

const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 10 * MIN, maxFutureSkewMs: 5 * MIN, idlePartitionTimeoutMs: 60_000 };

function run(messages: readonly RawMessage[], batchSizes: () => number, partitions: number, marts: MartSettings = DEFAULT_MART_SETTINGS): InMemoryMarts {
  const processor = new StreamProcessor({ ...SETTINGS, marts }, () => Date.UTC(2026, 10, 24));
  for (let p = 0; p < partitions; p++) processor.assign(emptyCheckpoint(p));
  const store = new InMemoryMarts();
  for (let i = 0; i < messages.length; ) {
    const size = batchSizes();
    processor.process(messages.slice(i, i + size));
    store.apply(processor.flush());
    i += size;
  }
  processor.finish();
  store.apply(processor.flush());
  return store;
}

describe('StreamProcessor vs the reference evaluator', () => {
  it.each([
    ['one batch', () => 1_000_000],
    ['batches of 1', () => 1],
    ['batches of 37', () => 37],
    ['random batches', (() => { const r = rng(9); return () => 1 + Math.floor(r() * 500); })()],
  ])('bounded replay, %s', (_name, sizes) => {
    const { messages, onTime } = generate(42, 1500);
    const store = run(messages, sizes, 1);
    expect(store.rows()).toEqual(evaluateHotMarts(onTime, DEFAULT_MART_SETTINGS));
    expect(store.lateEventIds.length).toBe(messages.length - onTime.length);
  });

  it('three partitions', () => {
    const { messages, onTime } = generate(7, 1200, 3);
    const store = run(messages, () => 50, 3);
    expect(store.rows()).toEqual(evaluateHotMarts(onTime, DEFAULT_MART_SETTINGS));
  });

  it('provisional rows up to the newest event equal the evaluator before the end of the stream', () => {
    const { messages, onTime } = generate(11, 800);
    const processor = new StreamProcessor(SETTINGS, () => Date.UTC(2026, 10, 24));
    processor.assign(emptyCheckpoint(0));
    const store = new InMemoryMarts();
    for (let i = 0; i < messages.length; i += 25) {
      processor.process(messages.slice(i, i + 25));
      store.apply(processor.flush());
    }
    const newest = Math.max(...onTime.map((e) => e.eventTs));
    expect(store.rows()).toEqual(evaluateHotMarts(onTime, DEFAULT_MART_SETTINGS, { newestEventTs: newest }));
  });

  it('two instances sharing three partitions, combined through the stored buckets, equal one instance', () => {
    const { messages, onTime } = generate(3, 1500, 3);
    const clock = (): number => Date.UTC(2026, 10, 24);
    const a = new StreamProcessor(SETTINGS, clock);
    const b = new StreamProcessor(SETTINGS, clock);
    a.assign(emptyCheckpoint(0));
    a.assign(emptyCheckpoint(1));
    b.assign(emptyCheckpoint(2));
    const owners = new Map<StreamProcessor, number[]>([[a, [0, 1]], [b, [2]]]);
    const store = new InMemoryMarts();
    // Stands in for the checkpoint tables: committed clocks, bounds, stored buckets, frontiers.
    const clocks = new Map<number, { partition: number; maxEventTs: number; committedAt: number; caughtUp: boolean }>();
    const bounds = new Map<number, number>();
    const buckets = new Map<string, { partition: number; bucket: StoredBucket; version: number }>();
    let version = 0;
    let frontiers: Frontiers | null = null;
    const read = new Map<StreamProcessor, number>();
    const flush = (p: StreamProcessor): void => {
      const owned = owners.get(p)!;
      const since = read.get(p) ?? 0;
      read.set(p, version);
      const external = [0, 1, 2]
        .filter((x) => !owned.includes(x))
        .map((partition) => ({
          partition,
          watermark: bounds.get(partition) ?? null,
          backlog: !bounds.has(partition),
          buckets: [...buckets.values()].filter((s) => s.partition === partition && s.version > since).map((s) => s.bucket),
        }));
      const batch = p.flush({ groupClocks: [...clocks.values()], external, storedFrontiers: frontiers });
      for (const c of batch.partitions) {
        clocks.set(c.partition, { partition: c.partition, maxEventTs: c.maxEventTs, committedAt: clock(), caughtUp: false });
        bounds.set(c.partition, c.watermark);
        for (const bucket of c.newBuckets) buckets.set(`${c.partition}|${bucket.kind}|${bucket.start}`, { partition: c.partition, bucket, version: ++version });
      }
      if (batch.marts !== null) frontiers = batch.marts.next;
      store.apply(batch);
    };
    for (let i = 0; i < messages.length; i += 40) {
      const chunk = messages.slice(i, i + 40);
      a.process(chunk.filter((m) => m.partition !== 2));
      b.process(chunk.filter((m) => m.partition === 2));
      flush(a);
      flush(b);
    }
    // Both instances catch up with the group's newest event before the comparison.
    flush(b);
    flush(a);
    const newest = Math.max(...onTime.map((e) => e.eventTs));
    expect(b.combines).toBe(false);
    expect(store.rows()).toEqual(evaluateHotMarts(onTime, DEFAULT_MART_SETTINGS, { newestEventTs: newest }));
  });

  it('5-minute top-docs cadence', () => {
    const { messages, onTime } = generate(5, 600);
    const marts = { ...DEFAULT_MART_SETTINGS, topDocsEveryMs: 5 * MIN };
    const store = run(messages, () => 100, 1, marts);
    expect(store.rows()).toEqual(evaluateHotMarts(onTime, marts));
  });
});
