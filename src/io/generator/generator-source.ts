// A bounded source over the built-in generator: one partition, offsets = sequence numbers.
import type { RawMessage } from '../../marts/types.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { generateClicks } from './click-generator.ts';
import type { GeneratorOptions } from './click-generator.ts';

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
