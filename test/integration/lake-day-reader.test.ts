// The archive reader the batch steps use, whose Parquet decoding runs on a worker thread: the
// same rows, in the same order, as reading each object in-thread; errors from the thread keep
// their class; stopping early or failing ends the thread (the process would otherwise hang).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  datePrefix,
  emptyReadStats,
  listArchiveObjects,
  readArchiveObjects,
} from '../../src/io/lake/lake-day-reader.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { ParquetSchemaError, encodeEventsToParquet, readParquetRowGroups, toClickEvents } from '../../src/io/lake/parquet-events.ts';
import type { ClickEvent } from '../../src/marts/types.ts';
import { PARQUET_FILE_CLASSES, PARQUET_GROUP_ROWS, seededRandom, validParquetRows } from '../fuzz/malformed-classes.ts';
import { writeArchive } from '../support/lake-archive.ts';

const DATE = '2026-03-02';
const T0 = Date.UTC(2026, 2, 2, 0, 0, 0);

function events(n: number): ClickEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `e-${i}`,
    eventTs: T0 + i * 997,
    sessionId: `s-${i % 37}`,
    documentId: String(900 + (i % 53)),
    // Repeated titles and areas (what the dictionary encoding is for), nulls, multi-byte text.
    title: i % 9 === 0 ? null : `Title ${i % 13}${i % 4 === 0 ? ' — 심장' : ''}`,
    clinicalArea: i % 5 === 0 ? 'unknown' : `area-${i % 6}`,
  }));
}

describe('readArchiveObjects (Parquet decoded on a worker thread)', () => {
  let dir: string;
  let lake: Lake;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-day-reader-'));
    lake = openLocalFolderLake(dir);
  });

  afterEach(async () => {
    await lake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('yields every row of every object in archive order, as the in-thread reader does', async () => {
    await writeArchive(lake, events(5000), 'UTC', { partitions: 3, objectSize: 700, rowGroupSize: 250 });
    const objects = await listArchiveObjects(lake, DATE);
    expect(objects.length).toBeGreaterThan(6);

    const expected: ClickEvent[] = [];
    let groups = 0;
    for (const object of objects) {
      for await (const batch of readParquetRowGroups((await lake.get(object.key)) as Uint8Array)) {
        expected.push(...toClickEvents(batch));
        groups++; // whole row groups here
      }
    }
    const stats = emptyReadStats();
    const actual: ClickEvent[] = [];
    let maxBatch = 0;
    for await (const batch of readArchiveObjects(lake, objects, stats)) {
      maxBatch = Math.max(maxBatch, batch.numRows);
      actual.push(...toClickEvents(batch));
    }
    expect(actual).toEqual(expected);
    expect(actual).toHaveLength(5000);
    expect(stats.rows).toBe(5000);
    expect(stats.objects).toBe(objects.length);
    expect(stats.rowGroups).toBe(groups);
    expect(stats.bytes).toBe(objects.reduce((n, o) => n + o.size, 0));
    expect(maxBatch).toBeLessThanOrEqual(250);
  });

  it('passes a schema error from the thread on as ParquetSchemaError', async () => {
    await writeArchive(lake, events(300), 'UTC', { partitions: 1, objectSize: 300 });
    // A Parquet file without the archive's columns, named like an archive object.
    const { Table, tableToIPC, vectorFromArray } = await import('apache-arrow');
    const { Table: WasmTable, writeParquet } = await import('parquet-wasm');
    const foreign = writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table({ other: vectorFromArray([1, 2, 3]) }), 'stream')));
    await lake.put(`${datePrefix(DATE)}curated.events-p9-o0-o2.parquet`, foreign);
    const read = async (): Promise<number> => {
      let rows = 0;
      for await (const batch of readArchiveObjects(lake, await listArchiveObjects(lake, DATE))) rows += batch.numRows;
      return rows;
    };
    await expect(read()).rejects.toThrow(ParquetSchemaError);
    await expect(read()).rejects.toThrow(/missing column\(s\) event_id/);
  });

  it('fails, and does not crash the process, on an object with a corrupt row group', async () => {
    // parquet-wasm traps on a corrupt page outside any promise: on the worker thread that ends
    // the thread, which the reader reports as an error of the read.
    const corrupt = PARQUET_FILE_CLASSES.find((c) => c.name === 'a corrupt row group')!;
    const valid = encodeEventsToParquet(validParquetRows(1).map((r) => ({ ...r, eventTs: T0 })), { rowGroupSize: PARQUET_GROUP_ROWS });
    await lake.put(`${datePrefix(DATE)}curated.events-p0-o0-o20.parquet`, (await corrupt.make(valid, seededRandom(1))).bytes);
    let rows = 0;
    await expect(
      (async () => {
        for await (const batch of readArchiveObjects(lake, await listArchiveObjects(lake, DATE))) rows += batch.numRows;
      })(),
    ).rejects.toThrow(/^archive object curated\/event_date=2026-03-02\/curated\.events-p0-o0-o20\.parquet cannot be read: unreachable$/);
    expect(rows).toBe(PARQUET_GROUP_ROWS);
  });

  it('ends cleanly when the consumer stops early, and reads empty lists', async () => {
    await writeArchive(lake, events(3000), 'UTC', { partitions: 2, objectSize: 500, rowGroupSize: 100 });
    const objects = await listArchiveObjects(lake, DATE);
    let seen = 0;
    for await (const batch of readArchiveObjects(lake, objects)) {
      seen += batch.numRows;
      if (seen >= 300) break;
    }
    expect(seen).toBe(300);
    let none = 0;
    for await (const batch of readArchiveObjects(lake, [])) none += batch.numRows;
    expect(none).toBe(0);
  });

  it('reads an object whose bytes are a view on a larger buffer', async () => {
    const body = encodeEventsToParquet(events(400).map((e) => ({ ...e })), { rowGroupSize: 150 });
    const padded = new Uint8Array(body.byteLength + 64);
    padded.set(body, 32);
    const view = padded.subarray(32, 32 + body.byteLength);
    const key = `${datePrefix(DATE)}curated.events-p0-o0-o399.parquet`;
    const viewLake: Lake = { ...lake, get: async (k) => (k === key ? view : lake.get(k)) };
    await lake.put(key, body);
    let rows = 0;
    for await (const batch of readArchiveObjects(viewLake, await listArchiveObjects(lake, DATE))) rows += batch.numRows;
    expect(rows).toBe(400);
    expect(padded.byteLength).toBe(body.byteLength + 64); // not moved away: a copy went to the thread
  });
});
