// Hands messages of several partitions to the processor in event-time order (watermark
// alignment, as in Flink; Kafka Streams likewise picks the partition with the lowest head
// timestamp). Without it, a partition fetched hours ahead of the others would decide what is
// late by the order the broker happened to return data, not by event time.
//
// A partition with nothing buffered holds the others back only while (1) the next message is
// more than maxSkewMs ahead of that partition's event time, (2) the partition is not caught up
// (the log has offsets it has not delivered yet, when endOffsets is given), and (3) it has been
// empty for less than alignWaitMs (a safety net). Live partitions are close in event time and
// caught up, so they never block each other.
import { parseRawMessage } from '../marts/event-contract.ts';
import type { RawMessage } from '../marts/types.ts';
import type { MessageSource, SourceHooks, SourcePoll } from './source.ts';

interface Lane {
  readonly queue: { readonly message: RawMessage; readonly eventTs: number }[];
  head: number;
  /** Largest event time seen on the partition. */
  maxTs: number;
  /** Next offset the partition will deliver (from the checkpoint, then from the messages). */
  nextOffset: number;
  /** Wall clock when the lane last ran dry (null while it has data). */
  emptySince: number | null;
  idle: boolean;
}

/**
 * Event time a raw message will be applied at, for ordering only. A message the processor will
 * dead-letter (bad JSON, a missing field, a far-future timestamp…) gets −∞: it goes first and
 * never counts as a partition's progress.
 */
export function applicableEventTs(value: RawMessage['value'], nowMs: number, maxFutureSkewMs: number): number {
  const outcome = parseRawMessage(value, { nowMs, maxFutureSkewMs });
  return outcome.ok ? outcome.event.eventTs : Number.NEGATIVE_INFINITY;
}

export interface AlignmentOptions {
  /** The log's end offset per partition; lets a lagging partition block only while it really has more to read. */
  readonly endOffsets?: () => Promise<ReadonlyMap<number, string>>;
  readonly maxSkewMs?: number;
  /** The processor's MAX_FUTURE_SKEW: messages it will dead-letter must not count as progress. */
  readonly maxFutureSkewMs?: number;
  readonly alignWaitMs?: number;
  readonly maxBuffered?: number;
  readonly clock?: () => number;
}

export function alignByEventTime(inner: MessageSource, options: AlignmentOptions = {}): MessageSource {
  const maxSkewMs = options.maxSkewMs ?? 60_000;
  const alignWaitMs = options.alignWaitMs ?? (options.endOffsets === undefined ? 2_000 : 30_000);
  const maxBuffered = options.maxBuffered ?? 50_000;
  const maxFutureSkewMs = options.maxFutureSkewMs ?? 5 * 60_000;
  const clock = options.clock ?? Date.now;
  const lanes = new Map<number, Lane>();
  const controls: SourcePoll[] = [];
  let buffered = 0;
  const startOffsets = new Map<number, number>();
  let ends: ReadonlyMap<number, string> | null = null;
  let endsAt = Number.NEGATIVE_INFINITY;
  let blockedOn: Lane | null = null;

  const caughtUp = (partition: number, l: Lane): boolean => {
    if (ends === null) return false;
    const end = ends.get(partition);
    return end !== undefined && l.nextOffset >= Number(end);
  };

  const lane = (partition: number): Lane => {
    let l = lanes.get(partition);
    if (l === undefined) {
      l = { queue: [], head: 0, maxTs: Number.NEGATIVE_INFINITY, nextOffset: startOffsets.get(partition) ?? 0, emptySince: clock(), idle: false };
      lanes.set(partition, l);
    }
    return l;
  };

  const enqueue = (messages: readonly RawMessage[]): void => {
    for (const message of messages) {
      const l = lane(message.partition);
      const eventTs = applicableEventTs(message.value, clock(), maxFutureSkewMs);
      l.queue.push({ message, eventTs });
      if (eventTs > l.maxTs) l.maxTs = eventTs;
      l.nextOffset = Number(message.offset) + 1;
      l.emptySince = null;
      l.idle = false;
      buffered++;
    }
  };

  const blockedBy = (eventTs: number, now: number): boolean => {
    for (const [partition, l] of lanes) {
      if (l.head < l.queue.length || l.idle) continue;
      if (l.emptySince !== null && now - l.emptySince >= alignWaitMs) {
        l.idle = true;
        continue;
      }
      if (options.endOffsets !== undefined && caughtUp(partition, l)) continue;
      if (eventTs > l.maxTs + maxSkewMs) {
        blockedOn = l;
        return true;
      }
    }
    return false;
  };

  /**
   * Per partition with messages held back, the event time of the next one it will deliver. (Not
   * the minimum of the queue: a late event further back must not pull the partition back.)
   */
  const heldBack = (): Map<number, number> => {
    const out = new Map<number, number>();
    for (const [partition, l] of lanes) {
      if (l.head >= l.queue.length) continue;
      const ts = l.queue[l.head]!.eventTs;
      if (Number.isFinite(ts)) out.set(partition, ts);
    }
    return out;
  };

  const drain = (max: number, force: boolean): RawMessage[] => {
    const out: RawMessage[] = [];
    const now = clock();
    while (out.length < max) {
      let best: Lane | null = null;
      for (const l of lanes.values()) {
        if (l.head >= l.queue.length) continue;
        if (best === null || l.queue[l.head]!.eventTs < best.queue[best.head]!.eventTs) best = l;
      }
      if (best === null) break;
      const next = best.queue[best.head]!;
      if (!force && blockedBy(next.eventTs, now)) break;
      out.push(next.message);
      buffered--;
      best.head++;
      if (best.head >= best.queue.length) {
        best.queue.length = 0;
        best.head = 0;
        best.emptySince = now;
      }
    }
    return out;
  };

  const takeControl = (): SourcePoll => {
    const control = controls.shift()!;
    if (control.kind === 'assigned') for (const p of control.partitions) lane(p);
    if (control.kind === 'revoked') {
      for (const p of control.partitions) {
        const l = lanes.get(p);
        if (l !== undefined) buffered -= l.queue.length - l.head;
        lanes.delete(p);
      }
    }
    return control;
  };

  /** See MessageSource.poll: assignment changes only, the lanes keep their messages. */
  const pollControl = async (maxWaitMs: number): Promise<SourcePoll> => {
    if (controls.length === 0) {
      const polled = await inner.poll(0, maxWaitMs);
      if (polled.kind === 'messages') {
        enqueue(polled.messages);
        return { kind: 'messages', messages: [], heldBack: heldBack() };
      }
      controls.push(polled);
    }
    if (controls[0]!.kind === 'end' && buffered > 0) return { kind: 'messages', messages: [], heldBack: heldBack() };
    return takeControl();
  };

  return {
    bounded: inner.bounded,
    start: (hooks: SourceHooks) =>
      inner.start({
        // Learn where each partition starts, to tell a caught-up partition from a lagging one.
        offsetsFor: async (source, partitions) => {
          const offsets = await hooks.offsetsFor(source, partitions);
          for (const [partition, offset] of offsets) {
            startOffsets.set(partition, offset === null ? 0 : Number(offset));
            const l = lanes.get(partition);
            if (l !== undefined && l.head >= l.queue.length) l.nextOffset = offset === null ? 0 : Number(offset);
          }
          return offsets;
        },
      }),
    async poll(maxMessages: number, maxWaitMs: number): Promise<SourcePoll> {
      if (maxMessages < 1) return pollControl(maxWaitMs);
      const deadline = clock() + maxWaitMs;
      for (;;) {
        if (controls.length === 0 && buffered > 0) {
          // An ownership change must not wait behind what is buffered here: ask for one first
          // (a control-only poll; the inner source hands over no message).
          const pending = await inner.poll(0, 0);
          if (pending.kind === 'messages') enqueue(pending.messages);
          else controls.push(pending);
        }
        if (controls.length > 0) {
          // The end of a bounded source is a barrier: everything fetched before it goes first.
          // An ownership change is not: a revoked partition's messages are dropped (the next
          // owner reads them from the checkpoint; handing them over now would only race it).
          if (controls[0]!.kind === 'end') {
            const rest = drain(maxMessages, true);
            if (rest.length > 0) return { kind: 'messages', messages: rest, heldBack: heldBack() };
          }
          return takeControl();
        }
        blockedOn = null;
        const ready = drain(maxMessages, buffered >= maxBuffered);
        if (ready.length > 0) return { kind: 'messages', messages: ready, heldBack: heldBack() };
        if (blockedOn !== null && options.endOffsets !== undefined && clock() - endsAt >= 500) {
          // A lagging partition holds the others: is there really more of it to read?
          endsAt = clock();
          ends = await options.endOffsets();
          continue;
        }
        const wait = Math.max(0, Math.min(maxWaitMs, deadline - clock()));
        const polled = await inner.poll(Math.max(maxMessages, 1000), buffered > 0 ? Math.min(wait, 50) : wait);
        if (polled.kind !== 'messages') {
          controls.push(polled);
          continue;
        }
        enqueue(polled.messages);
        if (polled.messages.length === 0 && clock() >= deadline) return { kind: 'messages', messages: [], heldBack: heldBack() };
      }
    },
    close: () => inner.close(),
    ...(inner.reload === undefined
      ? {}
      : {
          reload(): void {
            lanes.clear();
            controls.length = 0;
            buffered = 0;
            startOffsets.clear();
            blockedOn = null;
            inner.reload!();
          },
        }),
  };
}
