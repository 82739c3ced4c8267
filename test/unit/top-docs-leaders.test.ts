// The top-docs operator re-ranks only the documents a step touched (its leaders shortcut); on
// hours where thousands of Zipf-popular documents compete for the 20 places, and the leaders
// fall out and are rebuilt, every snapshot must still equal the reference evaluator's.
import { describe, expect, it } from 'vitest';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import type { ClickEvent } from '../../src/marts/types.ts';
import { StreamProcessor } from '../../src/stream/stream-processor.ts';
import { InMemoryMarts } from '../support/in-memory-marts.ts';

const START = Date.UTC(2026, 2, 1);
const SPAN_MS = 5 * 3_600_000;

function zipfLines(count: number): string[] {
  let seed = 5;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, i) => {
    // Popularity drifts over the hours, so that leaders lose their places and are rebuilt.
    const drift = Math.floor((i / count) * 7) * 97;
    const doc = (Math.floor(random() ** 3 * 3000) + drift) % 3000;
    return JSON.stringify({
      event_id: `e-${i}`,
      event_ts: START + Math.floor((i / count) * SPAN_MS) - Math.floor(random() * 60_000),
      session_id: `s-${Math.floor(random() * 1500)}`,
      document_id: String(doc),
      title: random() < 0.2 ? null : `Document ${doc} v${i % 3}`,
      clinical_area: null,
    });
  });
}

describe('top docs with the leaders shortcut', () => {
  it('equals the reference evaluator on five hours of Zipf-popular documents', () => {
    const lines = zipfLines(30_000);
    const processor = new StreamProcessor({ marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 }, () => START + SPAN_MS);
    for (const partition of [0, 1, 2]) {
      processor.assign({ source: 'file', partition, nextOffset: null, maxEventTs: Number.NEGATIVE_INFINITY, watermark: Number.NEGATIVE_INFINITY, anomaly: {}, buckets: [], pendingEvents: [] });
    }
    const store = new InMemoryMarts();
    const messages = lines.map((value, i) => ({ source: 'file', partition: i % 3, offset: String(Math.floor(i / 3)), value, receivedAt: 0 }));
    for (let i = 0; i < messages.length; i += 500) {
      processor.process(messages.slice(i, i + 500));
      store.apply(processor.flush());
    }
    processor.finish();
    store.apply(processor.flush());
    const events = lines.map((line) => {
      const outcome = parseRawMessage(line, { nowMs: START + SPAN_MS, maxFutureSkewMs: 300_000 });
      if (!outcome.ok) throw new Error(outcome.detail);
      return outcome.event;
    });
    const expected = evaluateHotMarts(events as ClickEvent[], DEFAULT_MART_SETTINGS).topDocs;
    expect(expected.length).toBeGreaterThan(300 * 20);
    expect(store.rows().topDocs).toEqual(expected);
  });
});
