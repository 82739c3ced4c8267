// Sources over the built-in generator: one partition, offsets = sequence numbers. The bounded
// one hands over a fixed number of messages as fast as it is polled; the live one releases each
// message when the wall clock reaches its emission time (history in the past comes at once, as
// a catch-up), and never ends.
import type { RawMessage } from '../../marts/types.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { generateClicks } from './click-generator.ts';
import type { GeneratedClick, GeneratorOptions } from './click-generator.ts';

export function createGeneratorSource(name: string, count: number, options: GeneratorOptions, clock: () => number = Date.now): MessageSource {
  const source = `generator:${name}`;
  const clicks = generateClicks(options);
  let next = 0;
  let startAt = 0;
  let announced = false;
  return {
    bounded: true,
    async start(hooks: SourceHooks): Promise<void> {
      startAt = Number((await hooks.offsetsFor(source, [0])).get(0) ?? 0);
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      const messages: RawMessage[] = [];
      while (messages.length < maxMessages && next < count) {
        const click = clicks.next().value!;
        const offset = next++;
        if (offset >= startAt) messages.push({ source, partition: 0, offset: String(offset), value: click.value, receivedAt: clock() });
      }
      return messages.length === 0 ? { kind: 'end' } : { kind: 'messages', messages };
    },
    async close(): Promise<void> {},
  };
}

export interface LiveGeneratorSource extends MessageSource {
  /** Messages due by now (emission time ≤ clock) that poll() has not handed over yet. */
  backlog(): number;
  /** Offset of the next message poll() hands over. */
  nextOffset(): number;
}

export interface LiveGeneratorOptions {
  /** The source's name (generator:<name>); a checkpoint under it resumes the same sequence. */
  readonly name: string;
  readonly generator: GeneratorOptions;
  readonly clock?: () => number;
}

export function createLiveGeneratorSource(options: LiveGeneratorOptions): LiveGeneratorSource {
  const source = `generator:${options.name}`;
  const clock = options.clock ?? Date.now;
  const clicks = generateClicks(options.generator);
  let next = 0;
  let pending: GeneratedClick | undefined;
  let announced = false;
  let closed = false;
  let wake: (() => void) | undefined;

  const peek = (): GeneratedClick => (pending ??= clicks.next().value!);
  const take = (): GeneratedClick => {
    const click = peek();
    pending = undefined;
    next++;
    return click;
  };

  return {
    bounded: false,
    async start(hooks: SourceHooks): Promise<void> {
      const startAt = Number((await hooks.offsetsFor(source, [0])).get(0) ?? 0);
      // Regenerating the skipped prefix keeps the sequence identical to an uninterrupted run.
      while (next < startAt) take();
    },
    async poll(maxMessages: number, maxWaitMs: number): Promise<SourcePoll> {
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      // While catching up, every message is due at once and the database adapter may answer
      // without real I/O (PGlite): yield to the event loop so that timers, signals and HTTP
      // requests are not starved by a chain of already-resolved promises.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const deadline = clock() + maxWaitMs;
      const messages: RawMessage[] = [];
      for (;;) {
        const now = clock();
        while (messages.length < maxMessages && peek().emitAt <= now) {
          const offset = next;
          const click = take();
          messages.push({ source, partition: 0, offset: String(offset), key: click.key, value: click.value, receivedAt: now });
        }
        if (messages.length > 0 || closed || now >= deadline) return { kind: 'messages', messages };
        const waitMs = Math.max(1, Math.min(deadline - now, peek().emitAt - now));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
    async close(): Promise<void> {
      closed = true;
      wake?.();
    },
    backlog(): number {
      // Counting ahead would consume the generator; the backlog is estimated from event time.
      const click = peek();
      const behindMs = clock() - click.emitAt;
      return behindMs <= 0 ? 0 : Math.round((behindMs / 1000) * options.generator.eventsPerSecond);
    },
    nextOffset: () => next,
  };
}
