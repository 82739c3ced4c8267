// The Parquet file source: the MessageSource protocol (assigned, messages, end), offsets as
// file-wide row indexes, resuming exactly after a stored offset across row groups, and records
// that the event contract turns back into the original events.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParquetFileSource } from '../../src/io/file/parquet-source.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../../src/io/source.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { UnreadableInput } from '../../src/marts/types.ts';
import type { ClickEvent, RawMessage } from '../../src/marts/types.ts';

const PARSE = { nowMs: Date.UTC(2030, 0, 1), maxFutureSkewMs: 300_000 };
const N = 23;

const events: ClickEvent[] = Array.from({ length: N }, (_, i) => ({
  eventId: `e-${i}`,
  eventTs: Date.UTC(2025, 5, 1) + i * 60_000,
  sessionId: `s-${i % 4}`,
  documentId: i === 7 ? '9223372036854775807' : i === 8 ? '18014398509481985' : String(i * 1000),
  title: i % 6 === 0 ? null : `문서 ${i} — title`,
  clinicalArea: i % 2 === 0 ? 'unknown' : 'oncology',
}));

function hooksAt(offset: string | null): SourceHooks & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    offsetsFor(source: string, partitions: readonly number[]) {
      asked.push(source);
      return Promise.resolve(new Map(partitions.map((p) => [p, offset])));
    },
  };
}

/** Polls to the end; returns every poll result in order. */
async function drain(source: MessageSource, maxMessages: number): Promise<SourcePoll[]> {
  const polls: SourcePoll[] = [];
  for (let i = 0; i < 10_000; i++) {
    const poll = await source.poll(maxMessages, 10);
    polls.push(poll);
    if (poll.kind === 'end') return polls;
  }
  throw new Error('source never ended');
}

function messagesOf(polls: SourcePoll[]): RawMessage[] {
  return polls.flatMap((p) => (p.kind === 'messages' ? p.messages : []));
}

describe('parquet file source', () => {
  let dir = '';
  let path = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-parquet-source-'));
    path = join(dir, 'events.parquet');
    // Row groups of 4: offset 5 starts inside the second group, and polls cross group boundaries.
    await writeFile(path, encodeEventsToParquet(events, { rowGroupSize: 4 }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes after a stored offset of 5 with exactly rows 5..n-1, which parse back to the original events', async () => {
    const source = createParquetFileSource(path, () => 1234);
    const hooks = hooksAt('5');
    await source.start(hooks);
    expect(hooks.asked).toEqual([`file:${resolve(path)}`]);
    const polls = await drain(source, 3);
    await source.close();

    expect(polls[0]).toEqual({ kind: 'assigned', source: `file:${resolve(path)}`, partitions: [0] });
    expect(polls.at(-1)).toEqual({ kind: 'end' });
    const messages = messagesOf(polls);
    expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: N - 5 }, (_, k) => String(5 + k)));
    expect(messages.every((m) => m.partition === 0 && m.source === `file:${resolve(path)}` && m.receivedAt === 1234)).toBe(true);
    const parsed = messages.map((m) => parseRawMessage(m.value, PARSE));
    expect(parsed).toEqual(events.slice(5).map((event) => ({ ok: true, event })));
  });

  it('reads the whole file from a null offset, in batches of at most maxMessages', async () => {
    const source = createParquetFileSource(path);
    await source.start(hooksAt(null));
    const polls = await drain(source, 10);
    await source.close();
    const batches = polls.filter((p) => p.kind === 'messages');
    expect(batches.every((p) => p.messages.length > 0 && p.messages.length <= 10)).toBe(true);
    expect(messagesOf(polls).map((m) => m.offset)).toEqual(events.map((_, i) => String(i)));
  });

  it('ends at once when the stored offset is past the last row, and stays ended', async () => {
    const source = createParquetFileSource(path);
    await source.start(hooksAt(String(N)));
    expect((await source.poll(100, 10)).kind).toBe('assigned');
    expect(await source.poll(100, 10)).toEqual({ kind: 'end' });
    expect(await source.poll(100, 10)).toEqual({ kind: 'end' });
    await source.close();
  });

  it('can be closed mid-file', async () => {
    const source = createParquetFileSource(path);
    await source.start(hooksAt(null));
    await source.poll(2, 10);
    const first = await source.poll(2, 10);
    expect(first.kind === 'messages' && first.messages.map((m) => m.offset)).toEqual(['0', '1']);
    await source.close();
  });

  it('fails start() on a missing file or a garbage offset, naming them', async () => {
    await expect(createParquetFileSource(join(dir, 'nope.parquet')).start(hooksAt(null))).rejects.toThrow(/nope\.parquet/);
    await expect(createParquetFileSource(path).start(hooksAt('-3'))).rejects.toThrow(/"-3"/);
    await expect(createParquetFileSource(path).poll(1, 1)).rejects.toThrow(/before start/);
  });

  it('hands a file that is not Parquet over as one unreadable message naming it, then ends', async () => {
    const notParquet = join(dir, 'events.jsonl');
    await writeFile(notParquet, '{"event_id":"a"}\n');
    const told: string[] = [];
    const source = createParquetFileSource(notParquet, Date.now, { onUnreadable: (detail) => told.push(detail) });
    await source.start(hooksAt(null));
    expect((await source.poll(10, 10)).kind).toBe('assigned');
    const polled = await source.poll(10, 10);
    if (polled.kind !== 'messages') throw new Error(`expected messages, got ${polled.kind}`);
    expect(polled.messages.map((m) => m.offset)).toEqual(['0']);
    const value = polled.messages[0]!.value;
    expect(value).toBeInstanceOf(UnreadableInput);
    const unreadable = value as UnreadableInput;
    expect([unreadable.reason, unreadable.originalBytes, Buffer.from(unreadable).toString()]).toEqual(['parquet_unreadable', 17, '{"event_id":"a"}\n']);
    expect(unreadable.detail).toMatch(/events\.jsonl: not a readable Parquet file of events: /);
    expect(told).toEqual([unreadable.detail]);
    expect((await source.poll(10, 10)).kind).toBe('end');
    await source.close();
  });

  it('resumed past an unreadable file, reports it no more', async () => {
    const notParquet = join(dir, 'events.jsonl');
    await writeFile(notParquet, '{"event_id":"a"}\n');
    const source = createParquetFileSource(notParquet);
    await source.start(hooksAt('1'));
    expect((await source.poll(10, 10)).kind).toBe('assigned');
    expect((await source.poll(10, 10)).kind).toBe('end');
    await source.close();
  });
});
