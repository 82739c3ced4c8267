// The mart suite through the stream processor in memory, at several batch sizes: the fast
// version of the replay acceptance test, and a guard that batching never changes a row.
import { describe, expect, it } from 'vitest';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { StreamProcessor } from '../../src/stream/stream-processor.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import { InMemoryMarts } from '../support/in-memory-marts.ts';

const suite = buildMartSuite();

describe('mart suite through the stream processor', () => {
  it.each([7, 250, 5000])('batches of %i', (size) => {
    const processor = new StreamProcessor(
      { marts: suite.settings, watermarkDelayMs: suite.watermarkDelayMs, maxFutureSkewMs: suite.maxFutureSkewMs, idlePartitionTimeoutMs: 60_000 },
      Date.now,
    );
    processor.assign({ source: 'file', partition: 0, nextOffset: null, maxEventTs: Number.NEGATIVE_INFINITY, watermark: Number.NEGATIVE_INFINITY, anomaly: {}, buckets: [], pendingEvents: [] });
    const store = new InMemoryMarts();
    const messages = suite.lines.map((value, i) => ({ source: 'file', partition: 0, offset: String(i), value, receivedAt: 0 }));
    for (let i = 0; i < messages.length; i += size) {
      processor.process(messages.slice(i, i + size));
      store.apply(processor.flush());
    }
    processor.finish();
    store.apply(processor.flush());
    expect(store.rows()).toEqual(evaluateHotMarts(suite.expected.onTimeEvents, suite.settings));
    expect(store.deadLetterOffsets.map((d) => ({ line: Number(d.offset), reason: d.reason }))).toEqual(
      [...suite.expected.deadLetters].sort((a, b) => a.line - b.line),
    );
    expect(store.duplicates).toBe(suite.expected.duplicateLines.length);
  });
});
