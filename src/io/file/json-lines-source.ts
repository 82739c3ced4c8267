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
 * The file's lines as bytes, without their \n or \r\n, a chunk's worth at a time (one await
 * per line would cost more than the line's parse). A line longer than MAX_MESSAGE_BYTES comes as
 * an OversizedMessage holding its first `prefixBytes` bytes.
 */
export async function* readLineBytes(path: string, prefixBytes: number): AsyncGenerator<Uint8Array[]> {
  // Enough to return any acceptable line whole (plus its \r), and the prefix of any other.
  const keep = Math.max(MAX_MESSAGE_BYTES + 1, prefixBytes);
  // The start of a line that continues past the chunk it began in.
  let parts: Buffer[] = [];
  let held = 0;
  let total = 0;
  let lastByte = -1;
  const finish = (): Uint8Array => {
    const length = total - (lastByte === CR ? 1 : 0);
    const kept = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, held);
    parts = [];
    held = 0;
    total = 0;
    lastByte = -1;
    if (length > MAX_MESSAGE_BYTES) return new OversizedMessage(kept.subarray(0, Math.min(prefixBytes, length)), length);
    return kept.subarray(0, length);
  };
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const lines: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      if (newline !== -1 && total === 0) {
        // The common case, a line wholly inside this chunk: a view, no copy. Views keep the
        // chunk alive only as long as their batch is being processed.
        lines.push(chunk.subarray(start, end > start && chunk[end - 1] === CR ? end - 1 : end));
        start = newline + 1;
        continue;
      }
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
      lines.push(finish());
      start = newline + 1;
    }
    if (lines.length > 0) yield lines;
  }
  // A last line without its \n keeps a trailing \r: only \r\n ends a line.
  if (total > 0) {
    lastByte = -1;
    yield [finish()];
  }
}

export function createJsonLinesSource(path: string, clock: () => number = Date.now, options: JsonLinesSourceOptions = {}): MessageSource {
  const source = fileSourceName(path);
  const prefixBytes = options.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
  let chunks: AsyncGenerator<Uint8Array[]> | null = null;
  let pending: Uint8Array[] = [];
  let pendingAt = 0;
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
      chunks = readLineBytes(path, prefixBytes);
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (chunks === null) throw new Error('json-lines source polled before start()');
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      if (done) return { kind: 'end' };
      const messages: RawMessage[] = [];
      while (messages.length < maxMessages) {
        if (pendingAt === pending.length) {
          const next = await chunks.next();
          if (next.done === true) {
            done = true;
            break;
          }
          pending = next.value;
          pendingAt = 0;
        }
        const value = pending[pendingAt++] as Uint8Array;
        const offset = nextLine++;
        if (offset < startAt) continue;
        messages.push({ source, partition: 0, offset: String(offset), value, receivedAt: clock() });
      }
      if (messages.length === 0 && done) return { kind: 'end' };
      return { kind: 'messages', messages };
    },
    async close(): Promise<void> {
      await chunks?.return(undefined);
      pending = [];
    },
  };
}
