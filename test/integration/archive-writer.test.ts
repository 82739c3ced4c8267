// The archive writer in process, on PGlite and PostgreSQL, with a local-folder lake and JSON Lines
// files as bounded sources: exactly once across a crash between upload and commit (re-run at
// other flush boundaries), the watermark at the end of a bounded source, lake_days and dirty
// dates, and the fence that keeps a writer that lost a partition from committing it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runArchive } from '../../src/io/archive/archive-writer.ts';
import type { ArchiveRunOptions, ArchiveRunSummary } from '../../src/io/archive/archive-writer.ts';
import { ArchiveFencedError, advanceWatermark, claimPartitions, commitFlush, loadArchiveWatermark, writeIntents } from '../../src/io/archive/archive-store.ts';
import type { Database } from '../../src/io/db/database.ts';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { createLogger } from '../../src/io/log.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from '../support/archive-lake.ts';

const TZ = 'America/New_York';
const HOUR = 3_600_000;
/** 2026-03-07 00:00 EST: the lines span 2026-03-06 … 2026-03-09 in New York. */
const START = Date.UTC(2026, 2, 6, 20);

function event(i: number, ts: number): string {
  return JSON.stringify({ event_id: `e-${i}`, event_ts: new Date(ts).toISOString(), session_id: `s-${i % 17}`, document_id: String(1000 + (i % 23)), title: i % 5 === 0 ? null : `Doc ${i % 23}`, clinical_area: i % 7 === 0 ? '' : 'cardiology' });
}

/** count lines, 4.5 minutes apart, with an invalid line every 97 and one far-future event. */
function lines(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 97 === 50) out.push(i % 2 === 0 ? '{"event_id": "broken"' : JSON.stringify({ event_id: `e-${i}` }));
    else if (i === 333) out.push(event(i, Date.UTC(2099, 0, 1)));
    else out.push(event(i, START + i * 270_000));
  }
  return out;
}

/** A lake whose put uploads the object and then fails at the n-th call: a crash right after an upload. */
function crashingAfterUpload(inner: Lake, n: number): Lake {
  let puts = 0;
  return {
    ...inner,
    async put(key, body) {
      await inner.put(key, body);
      if (++puts === n) throw new Error('simulated crash after upload');
    },
  };
}

const log = createLogger('warn');

for (const factory of testDatabaseFactories()) {
  describe(`archive writer (${factory.label})`, () => {
    let t: TestDatabase;
    let dir: string;
    let lake: Lake;
    beforeEach(async () => {
      t = await factory.create();
      dir = await mkdtemp(join(tmpdir(), 'tidemark-archive-'));
      lake = openLocalFolderLake(join(dir, 'lake'));
    });
    afterEach(async () => {
      await t.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    const file = async (name: string, content: readonly string[]): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, `${content.join('\n')}\n`);
      return path;
    };
    const archive = (db: Database, path: string, consumer: string, maxRows: number, target: Lake = lake): Promise<ArchiveRunSummary> => {
      const options: ArchiveRunOptions = {
        db,
        lake: target,
        source: createJsonLinesSource(path),
        consumer,
        settings: { timeZone: TZ, watermarkDelayMs: 10 * 60_000, maxFutureSkewMs: 5 * 60_000, idlePartitionTimeoutMs: HOUR, limits: { maxRows, maxBytes: 64 << 20, maxAgeMs: 60_000 } },
        log,
      };
      return runArchive(options);
    };
    const lakeDays = async (): Promise<{ d: string; cold: boolean; dirty: boolean }[]> =>
      (
        await t.db.query<{ d: string; cold: boolean; dirty: boolean }>(
          `SELECT event_date::text AS d, cold_computed_at IS NOT NULL AS cold, dirty_since IS NOT NULL AS dirty FROM lake_days ORDER BY event_date`,
        )
      ).rows;

    it('archives a bounded file once per offset, by New York date; watermark +∞; lake_days', async () => {
      const content = lines(1200);
      const path = await file('events.jsonl', content);
      const summary = await archive(t.db, path, 'archive-test', 500);
      expect(summary).toMatchObject({ messages: 1200, skipped: 13, archived: 1187, ended: 'source-exhausted', orphansDeleted: 0, flushes: 3 });
      expect(summary.watermark).toBe(Number.POSITIVE_INFINITY);

      const objects = await readArchive(lake);
      const rows = expectWellFormedArchive(objects, TZ);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(content, 5 * 60_000));
      expect(rows.every((r) => r.partition === 0)).toBe(true);
      // Flushes cut at offsets 0–499, 500–999, 1000–1199; one object per date inside each
      // (2026-03-08 has 23 hours in New York).
      expect(objects.map((o) => `${o.name.eventDate} ${o.name.firstOffset}-${o.name.lastOffset}`)).toEqual([
        '2026-03-06 0-499',
        '2026-03-07 0-499',
        '2026-03-08 0-499',
        '2026-03-08 500-999',
        '2026-03-09 500-999',
        '2026-03-09 1000-1199',
        '2026-03-10 1000-1199',
      ]);
      // 2026-03-07 03:03 UTC is still 2026-03-06 in New York: the folder follows MART_TIMEZONE.
      const eveningInNewYork = rows.find((r) => r.eventId === 'e-94');
      expect(new Date(eveningInNewYork!.eventTs).toISOString()).toBe('2026-03-07T03:03:00.000Z');
      expect(objects.find((o) => o.rows.includes(eveningInNewYork!))?.name.eventDate).toBe('2026-03-06');

      expect(await loadArchiveWatermark(t.db, 'archive-test')).toBe(Number.POSITIVE_INFINITY);
      expect(await lakeDays()).toEqual(['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10'].map((d) => ({ d, cold: false, dirty: false })));
      const intents = await t.db.query(`SELECT * FROM archive_intents`);
      expect(intents.rows).toEqual([]);

      // A second run of the same file finds everything committed: nothing is written again.
      const again = await archive(t.db, path, 'archive-test', 500);
      expect(again).toMatchObject({ messages: 0, archived: 0, objects: 0 });
      expect((await lake.list('curated/')).length).toBe(7);
    });

    it('a crash between upload and commit, re-run at other boundaries: every offset once', async () => {
      const content = lines(1500);
      const path = await file('crash.jsonl', content);
      // 200-row flushes; the 7th upload lands and then the process "dies" before the commit.
      await expect(archive(t.db, path, 'archive-crash', 200, crashingAfterUpload(lake, 7))).rejects.toThrow(/simulated crash/);
      const committed = await t.db.query<{ next: string }>(`SELECT next_offset::text AS next FROM archive_partitions WHERE consumer = 'archive-crash'`);
      const intents = await t.db.query<{ object_key: string }>(`SELECT object_key FROM archive_intents ORDER BY object_key`);
      expect(intents.rows.length).toBeGreaterThan(0);
      const orphanKeys = intents.rows.map((r) => r.object_key);
      const present = new Set((await lake.list('curated/')).map((o) => o.key));
      expect(orphanKeys.some((k) => present.has(k))).toBe(true);

      // Restarted with other flush boundaries: 350 rows. Without the intents, the orphan's range
      // and the new object's range would overlap.
      const summary = await archive(t.db, path, 'archive-crash', 350);
      expect(summary.messages).toBe(1500 - Number(committed.rows[0]!.next));
      expect(summary.orphansDeleted).toBe(orphanKeys.length);
      const objects = await readArchive(lake);
      const rows = expectWellFormedArchive(objects, TZ);
      expect(rows.map(eventText).sort()).toEqual(validEventTexts(content, 5 * 60_000));
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
      for (const key of orphanKeys) expect(objects.some((o) => o.key === key)).toBe(false);
    });

    it('marks a date dirty when a late event arrives after its cold run', async () => {
      const first = await file('days.jsonl', [event(1, Date.UTC(2026, 2, 7, 15)), event(2, Date.UTC(2026, 2, 8, 15)), event(3, Date.UTC(2026, 2, 9, 15))]);
      await archive(t.db, first, 'archive-dirty', 100);
      expect(await lakeDays()).toEqual(['2026-03-07', '2026-03-08', '2026-03-09'].map((d) => ({ d, cold: false, dirty: false })));
      // The daily flow computed 03-07 and 03-08.
      await t.db.query(`UPDATE lake_days SET cold_computed_at = now() WHERE event_date IN ('2026-03-07', '2026-03-08')`);

      // Late: one event of 03-07 (cold done → dirty), one of 03-09 (not computed yet → stays clean),
      // one of a new date 03-10.
      const late = await file('late.jsonl', [event(4, Date.UTC(2026, 2, 7, 20)), event(5, Date.UTC(2026, 2, 9, 20)), event(6, Date.UTC(2026, 2, 10, 15))]);
      await archive(t.db, late, 'archive-dirty', 100);
      expect(await lakeDays()).toEqual([
        { d: '2026-03-07', cold: true, dirty: true },
        { d: '2026-03-08', cold: true, dirty: false },
        { d: '2026-03-09', cold: false, dirty: false },
        { d: '2026-03-10', cold: false, dirty: false },
      ]);
    });

    it('fences a writer that lost its partition, and never moves the watermark backwards', async () => {
      const [a] = await claimPartitions(t.db, 'g', 'kafka:t', [0]);
      const [b] = await claimPartitions(t.db, 'g', 'kafka:t', [0]);
      expect([a!.epoch, b!.epoch]).toEqual(['1', '2']);
      expect(b!.nextOffset).toBeNull();
      const flushOf = (claim: typeof a, nextOffset: string) => ({ claim: claim!, nextOffset, maxEventTs: START, lastMessageAt: START });

      await expect(t.db.transaction((tx) => writeIntents(tx, 'g', [a!], [{ partition: 0, key: 'k-a' }]))).rejects.toBeInstanceOf(ArchiveFencedError);
      await expect(t.db.transaction((tx) => commitFlush(tx, 'g', [flushOf(a, '10')], [], START))).rejects.toBeInstanceOf(ArchiveFencedError);

      await t.db.transaction((tx) => writeIntents(tx, 'g', [b!], [{ partition: 0, key: 'k-b' }]));
      await t.db.transaction((tx) => commitFlush(tx, 'g', [flushOf(b, '10')], ['2026-03-07'], START));
      // The same claim again (a second commit of the same range) is refused: next_offset moved on.
      await expect(t.db.transaction((tx) => commitFlush(tx, 'g', [flushOf(b, '10')], [], START))).rejects.toThrow(/expected next offset none, found 10/);
      expect((await t.db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
      const [c] = await claimPartitions(t.db, 'g', 'kafka:t', [0]);
      expect(c).toMatchObject({ epoch: '3', nextOffset: '10', maxEventTs: START });

      await t.db.transaction((tx) => advanceWatermark(tx, 'g', START - HOUR));
      expect(await loadArchiveWatermark(t.db, 'g')).toBe(START);
      await t.db.transaction((tx) => advanceWatermark(tx, 'g', START + HOUR));
      expect(await loadArchiveWatermark(t.db, 'g')).toBe(START + HOUR);
    });
  });
}
