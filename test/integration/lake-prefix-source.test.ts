// The archive under a lake prefix as a bounded source: date folders in order, partitions merged
// by event time, resuming after a committed row; and `tidemark replay s3://bucket/prefix` running
// an S3 archive through the stream engine.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveObjectKey } from '../../src/io/archive/archive-object-key.ts';
import { runArchive } from '../../src/io/archive/archive-writer.ts';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import { createLakePrefixSource } from '../../src/io/lake/lake-prefix-source.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import type { ArchiveRow } from '../../src/io/lake/parquet-events.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { createLogger } from '../../src/io/log.ts';
import type { MessageSource, SourcePoll } from '../../src/io/source.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { fakeCheckpoints } from '../support/kafka.ts';
import { emptyLake } from '../support/lake-conformance.ts';
import { runCli } from '../support/run-cli.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 7, 15);

function row(id: string, ts: number, partition: number, offset: number): ArchiveRow {
  return { eventId: id, eventTs: ts, sessionId: `s-${partition}`, documentId: '7', title: null, clinicalArea: 'unknown', partition, offset: String(offset) };
}

async function drain(source: MessageSource, maxMessages = 2): Promise<SourcePoll[]> {
  const polls: SourcePoll[] = [];
  for (;;) {
    const poll = await source.poll(maxMessages, 0);
    polls.push(poll);
    if (poll.kind === 'end') return polls;
  }
}

function idsAndOffsets(polls: readonly SourcePoll[]): string[] {
  return polls.flatMap((p) => (p.kind === 'messages' ? p.messages.map((m) => `${(m.value as { event_id: string }).event_id}@${m.offset}`) : []));
}

describe('lake prefix source', () => {
  let dir: string;
  let lake: Lake;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-lake-source-'));
    lake = openLocalFolderLake(dir);
    const put = (eventDate: string, partition: number, first: number, last: number, rows: ArchiveRow[]): Promise<void> =>
      lake.put(archiveObjectKey({ eventDate, sourceName: 'curated.events', partition, firstOffset: String(first), lastOffset: String(last) }), encodeEventsToParquet(rows));
    // 2026-03-07: partition 0 in two objects, partition 1 in one; the partitions interleave in time.
    await put('2026-03-07', 0, 0, 1, [row('a1', T0, 0, 0), row('a2', T0 + 2 * MIN, 0, 1)]);
    await put('2026-03-07', 0, 2, 3, [row('a3', T0 + 4 * MIN, 0, 2), row('a-late', T0 - 60 * MIN, 0, 3)]);
    await put('2026-03-07', 1, 0, 2, [row('b1', T0 + MIN, 1, 0), row('b2', T0 + 2 * MIN, 1, 1), row('b3', T0 + 5 * MIN, 1, 2)]);
    // 2026-03-08 comes after the whole of 2026-03-07, whatever the times.
    await put('2026-03-08', 1, 3, 3, [row('c1', T0 + 24 * 60 * MIN, 1, 3)]);
    await lake.put('curated/notes.txt', new TextEncoder().encode('not parquet'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads date folders in order, merging the partitions by event time', async () => {
    const source = createLakePrefixSource(lake, 'curated/', { clock: () => 1 });
    await source.start(fakeCheckpoints());
    const polls = await drain(source);
    await source.close();
    expect(polls[0]).toEqual({ kind: 'assigned', source: `lake:${lake.url}/curated/`, partitions: [0] });
    // Ties (a2, b2 at +2 min) go to the lower partition; a late row stays where its partition had it.
    expect(idsAndOffsets(polls)).toEqual(['a1@0', 'b1@1', 'a2@2', 'b2@3', 'a3@4', 'a-late@5', 'b3@6', 'c1@7']);
    const first = polls[1] as Extract<SourcePoll, { kind: 'messages' }>;
    expect(first.messages[0]).toEqual({
      source: `lake:${lake.url}/curated/`,
      partition: 0,
      offset: '0',
      value: { event_id: 'a1', event_ts: T0, session_id: 's-0', document_id: 7n, title: null, clinical_area: 'unknown' },
      receivedAt: 1,
    });
  });

  it('resumes after the committed row', async () => {
    const source = createLakePrefixSource(lake, 'curated/event_date=2026-03-07/');
    await source.start(fakeCheckpoints([[0, '5']]));
    expect(idsAndOffsets(await drain(source, 100))).toEqual(['a-late@5', 'b3@6']);
    await source.close();
  });

  it('ends at once under an empty prefix', async () => {
    const source = createLakePrefixSource(lake, 'nothing/');
    await source.start(fakeCheckpoints());
    expect(await drain(source)).toEqual([{ kind: 'assigned', source: `lake:${lake.url}/nothing/`, partitions: [0] }, { kind: 'end' }]);
    await source.close();
  });
});

const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();

describe.runIf(pg !== undefined && s3 !== undefined)('tidemark replay s3://bucket/prefix', () => {
  it('runs an S3 archive through the stream engine; a second replay applies nothing', { timeout: 120_000 }, async () => {
    const t = await pg!.create();
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-lake-replay-'));
    const prefix = uniquePrefix();
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix });
    try {
      // 600 events over two New York days, an on-time copy of one, and one late event.
      const lines: string[] = [];
      for (let i = 0; i < 600; i++) {
        lines.push(JSON.stringify({ event_id: `e-${i}`, event_ts: T0 + i * 5 * MIN, session_id: `s-${i % 9}`, document_id: i % 31, title: `T${i % 31}`, clinical_area: 'oncology' }));
      }
      lines.push(JSON.stringify({ event_id: 'e-599', event_ts: T0 + 599 * 5 * MIN, session_id: 's-5', document_id: 10, title: 'T10', clinical_area: 'oncology' }));
      lines.push(JSON.stringify({ event_id: 'late', event_ts: T0 + 100 * 5 * MIN, session_id: 's-1', document_id: 1, title: null, clinical_area: null }));
      const file = join(dir, 'events.jsonl');
      await writeFile(file, `${lines.join('\n')}\n`);
      await runArchive({
        db: t.db,
        lake,
        source: createJsonLinesSource(file),
        consumer: 'archive',
        settings: { timeZone: 'America/New_York', watermarkDelayMs: 10 * MIN, maxFutureSkewMs: 5 * MIN, idlePartitionTimeoutMs: 60 * MIN, limits: { maxRows: 250, maxBytes: 1 << 20, maxAgeMs: 60_000 } },
        log: createLogger('warn'),
      });
      const env = { ...s3!.env, DATABASE_URL: t.url!, MART_TIMEZONE: 'America/New_York', LOG_LEVEL: 'info' };
      const url = `s3://${s3!.bucket}/${prefix}`;
      const first = await runCli(['replay', url], env);
      expect(first.code, first.stderr.slice(-2000)).toBe(0);
      const summary = JSON.parse(first.stdout.split('\n').find((l) => l.includes('"msg":"stream finished"'))!) as Record<string, number>;
      // In event-time order the copy of e-599 is a duplicate and 'late' is late (it was archived
      // in the last flush, whose objects are read after the day's earlier events).
      expect(summary).toMatchObject({ messages: 602, applied: 600, duplicates: 1, lateEvents: 1, deadLetters: 0, ended: 'source-exhausted' });
      const clicks = await t.db.query<{ n: string }>(`SELECT sum(total_clicks)::text AS n FROM mart_realtime_traffic_minute`);
      expect(Number(clicks.rows[0]?.n)).toBe(600);

      const again = await runCli(['replay', url], env);
      expect(again.code, again.stderr.slice(-2000)).toBe(0);
      expect(JSON.parse(again.stdout.split('\n').find((l) => l.includes('"msg":"stream finished"'))!)).toMatchObject({ messages: 0, applied: 0 });

      const bad = await runCli(['replay', 's3://No_Such/x'], env);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain('names an invalid bucket');
    } finally {
      await emptyLake(lake);
      await lake.close();
      await rm(dir, { recursive: true, force: true });
      await t.dispose();
    }
  });
});
