// A bounded source over a JSON Lines file: one raw message per line, offset = line number
// (0-based), one partition. Replays resume after the last committed line.
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { RawMessage } from '../../marts/types.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';

export function fileSourceName(path: string): string {
  return `file:${resolve(path)}`;
}

export function createJsonLinesSource(path: string, clock: () => number = Date.now): MessageSource {
  const source = fileSourceName(path);
  let lines: AsyncIterator<string> | null = null;
  let nextLine = 0;
  let startAt = 0;
  let announced = false;
  let done = false;

  return {
    bounded: true,
    async start(hooks: SourceHooks): Promise<void> {
      const offsets = await hooks.offsetsFor(source, [0]);
      startAt = Number(offsets.get(0) ?? 0);
      const reader = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
      lines = reader[Symbol.asyncIterator]();
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (lines === null) throw new Error('json-lines source polled before start()');
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      if (done) return { kind: 'end' };
      const messages: RawMessage[] = [];
      while (messages.length < maxMessages) {
        const next = await lines.next();
        if (next.done === true) {
          done = true;
          break;
        }
        const offset = nextLine++;
        if (offset < startAt) continue;
        messages.push({ source, partition: 0, offset: String(offset), value: next.value, receivedAt: clock() });
      }
      if (messages.length === 0 && done) return { kind: 'end' };
      return { kind: 'messages', messages };
    },
    async close(): Promise<void> {
      await lines?.return?.();
    },
  };
}
