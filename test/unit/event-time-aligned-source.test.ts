// The event-time aligner's handling of ownership changes: a revocation drops what it buffered
// for the revoked partitions (the next owner reads those from the checkpoint), and a
// control-only poll (maxMessages 0) passes assignment changes without handing over a message.
import { describe, expect, it } from 'vitest';
import { alignByEventTime } from '../../src/io/event-time-aligned-source.ts';
import type { MessageSource, SourcePoll } from '../../src/io/source.ts';
import type { RawMessage } from '../../src/marts/types.ts';

const SOURCE = 'kafka:clicks';
const T0 = Date.parse('2026-03-08T10:00:00Z');

function click(partition: number, offset: number, secondsAfterT0: number): RawMessage {
  const value = JSON.stringify({
    event_id: `e-${partition}-${offset}`,
    session_id: `s-${partition}`,
    document_id: 7,
    title: 'Atrial fibrillation',
    clinical_area: 'Cardiology',
    event_ts: new Date(T0 + secondsAfterT0 * 1000).toISOString(),
  });
  return { source: SOURCE, partition, offset: String(offset), value, receivedAt: T0 };
}

/**
 * A source that answers polls from a script, then times out with no messages. Like the Kafka
 * source, a control-only poll (maxMessages 0) never takes messages: it answers empty while
 * messages are next.
 */
function scriptedSource(script: SourcePoll[]): MessageSource & { readonly asked: number[] } {
  const asked: number[] = [];
  return {
    bounded: false,
    asked,
    start: async () => undefined,
    poll: async (maxMessages) => {
      asked.push(maxMessages);
      if (maxMessages < 1 && script[0]?.kind === 'messages') return { kind: 'messages', messages: [] };
      return script.shift() ?? { kind: 'messages', messages: [] };
    },
    close: async () => undefined,
  };
}

const offsets = (messages: readonly RawMessage[]): string[] => messages.map((m) => `${m.partition}@${m.offset}`);

describe('event-time aligned source', () => {
  it('hands partitions over in event-time order', async () => {
    const inner = scriptedSource([
      { kind: 'assigned', source: SOURCE, partitions: [0, 1] },
      { kind: 'messages', messages: [click(0, 0, 30), click(0, 1, 50), click(1, 0, 10), click(1, 1, 40)] },
    ]);
    const aligned = alignByEventTime(inner, { clock: () => T0 + 3_600_000, alignWaitMs: 0 });
    await aligned.start({ offsetsFor: async (_s, partitions) => new Map(partitions.map((p) => [p, null])) });
    expect(await aligned.poll(10, 0)).toEqual({ kind: 'assigned', source: SOURCE, partitions: [0, 1] });
    const polled = await aligned.poll(10, 0);
    expect(polled.kind === 'messages' ? offsets(polled.messages) : polled.kind).toEqual(['1@0', '0@0', '1@1', '0@1']);
  });

  it('drops the buffered messages of revoked partitions instead of handing them over', async () => {
    const inner = scriptedSource([
      { kind: 'assigned', source: SOURCE, partitions: [0, 1] },
      { kind: 'messages', messages: [click(0, 0, 10), click(0, 1, 20), click(1, 0, 15), click(1, 1, 25)] },
      { kind: 'revoked', source: SOURCE, partitions: [0, 1] },
      { kind: 'assigned', source: SOURCE, partitions: [1] },
      { kind: 'messages', messages: [click(1, 1, 25)] },
    ]);
    const aligned = alignByEventTime(inner, { clock: () => T0 + 3_600_000, alignWaitMs: 0 });
    await aligned.start({ offsetsFor: async (_s, partitions) => new Map(partitions.map((p) => [p, null])) });
    expect((await aligned.poll(1, 0)).kind).toBe('assigned');
    // The revocation is asked for before the four buffered messages drain, and drops them.
    const results: SourcePoll[] = [];
    for (let i = 0; i < 3; i++) results.push(await aligned.poll(10, 0));
    expect(results.map((r) => (r.kind === 'messages' ? offsets(r.messages) : `${r.kind} ${r.kind === 'end' ? '' : r.partitions.join(',')}`))).toEqual([
      'revoked 0,1',
      'assigned 1',
      ['1@1'],
    ]);
  });

  it('passes assignment changes to a control-only poll and hands over no message', async () => {
    const inner = scriptedSource([
      { kind: 'assigned', source: SOURCE, partitions: [0, 1] },
      { kind: 'messages', messages: [click(0, 0, 10), click(0, 1, 12), click(1, 0, 15)] },
      { kind: 'revoked', source: SOURCE, partitions: [1] },
      { kind: 'messages', messages: [click(0, 2, 20)] },
    ]);
    const aligned = alignByEventTime(inner, { clock: () => T0 + 3_600_000, alignWaitMs: 0 });
    await aligned.start({ offsetsFor: async (_s, partitions) => new Map(partitions.map((p) => [p, null])) });
    expect(await aligned.poll(0, 0)).toEqual({ kind: 'assigned', source: SOURCE, partitions: [0, 1] });
    expect(await aligned.poll(0, 0)).toEqual({ kind: 'messages', messages: [], heldBack: new Map() });
    // A full poll fetches three messages, then finds the revocation behind them before handing
    // any over: partition 1's message goes with it, partition 0 keeps its own.
    expect(await aligned.poll(1, 0)).toEqual({ kind: 'revoked', source: SOURCE, partitions: [1] });
    const controlOnly = await aligned.poll(0, 0);
    expect(controlOnly.kind === 'messages' ? controlOnly.messages.length : controlOnly.kind).toBe(0);
    const rest: string[] = [];
    for (let i = 0; i < 2; i++) {
      const polled = await aligned.poll(10, 0);
      if (polled.kind === 'messages') rest.push(...offsets(polled.messages));
    }
    expect(rest).toEqual(['0@0', '0@1', '0@2']);
    expect(inner.asked).toEqual([0, 0, 1000, 0, 0, 0, 1000, 0]);
  });
});
