// A bounded source over a JSON Lines file: one raw message per line, offset = line number
// (0-based), one partition. Replays resume after the last committed line.
//
// Lines are cut from the file's bytes at \n (a \r right before it is dropped) and handed over
// as bytes, exactly as a Kafka message would be: the event contract then classifies every byte
// sequence the same way whatever the source (invalid UTF-8 is dead-lettered, never replaced),
// and U+2028, U+2029 or a lone CR inside a JSON string cannot split an event. A line longer than
// the contract accepts is never built: the reader keeps its first bytes and counts the rest, so
// memory stays bounded by the chunk size whatever the line's length.
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_MESSAGE_BYTES } from '../../marts/event-contract.ts';
import { DEFAULT_DEAD_LETTER_MAX_BYTES, OversizedMessage } from '../../marts/types.ts';
import type { RawMessage } from '../../marts/types.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { EXIT_DATA_ERROR, InputFileError, checkInputFile } from './input-file.ts';

export function fileSourceName(path: string): string {
  return `file:${resolve(path)}`;
}

const CHUNK_BYTES = 1 << 20;
const LF = 0x0a;
const CR = 0x0d;

export interface JsonLinesSourceOptions {
  /** Bytes of a too-large line kept for its dead letter. */
  readonly deadLetterMaxBytes?: number;
}

/**
 * The file's lines as bytes, without their \n or \r\n. A line longer than MAX_MESSAGE_BYTES
 * comes as an OversizedMessage holding its first `prefixBytes` bytes.
 */
export async function* readLineBytes(path: string, prefixBytes: number): AsyncGenerator<Uint8Array> {
  // Enough to return any acceptable line whole (plus its \r), and the prefix of any other.
  const keep = Math.max(MAX_MESSAGE_BYTES + 1, prefixBytes);
  let parts: Buffer[] = [];
  let held = 0;
  let total = 0;
  let lastByte = -1;
  const finish = (): Uint8Array => {
    const crlf = lastByte === CR ? 1 : 0;
    const length = total - crlf;
    const kept = Buffer.concat(parts, held);
    parts = [];
    held = 0;
    total = 0;
    lastByte = -1;
    if (length > MAX_MESSAGE_BYTES) return new OversizedMessage(kept.subarray(0, Math.min(prefixBytes, length)), length);
    return kept.subarray(0, length);
  };
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      if (end > start) {
        total += end - start;
        lastByte = chunk[end - 1] as number;
        if (held < keep) {
          const piece = chunk.subarray(start, Math.min(end, start + keep - held));
          parts.push(piece);
          held += piece.length;
        }
      }
      if (newline === -1) break;
      yield finish();
      start = newline + 1;
    }
  }
  // A last line without its \n keeps a trailing \r: only \r\n ends a line.
  if (total > 0) {
    lastByte = -1;
    yield finish();
  }
}

export function createJsonLinesSource(path: string, clock: () => number = Date.now, options: JsonLinesSourceOptions = {}): MessageSource {
  const source = fileSourceName(path);
  const prefixBytes = options.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
  let lines: AsyncGenerator<Uint8Array> | null = null;
  let nextLine = 0;
  let startAt = 0;
  let announced = false;
  let done = false;

  return {
    bounded: true,
    async start(hooks: SourceHooks): Promise<void> {
      // Checked here so that a missing file or a folder fails start() with its path.
      if ((await checkInputFile(path)) === 0) throw new InputFileError(`${path}: the file is empty; expected JSON Lines (one event object per line)`, EXIT_DATA_ERROR);
      const offsets = await hooks.offsetsFor(source, [0]);
      startAt = Number(offsets.get(0) ?? 0);
      lines = readLineBytes(path, prefixBytes);
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
      await lines?.return(undefined);
    },
  };
}
