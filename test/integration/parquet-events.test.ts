// The archive's Parquet codec against real parquet-wasm: exact round trips (int64 beyond 2^53,
// nulls, multi-byte text, empty files, several row groups), resuming inside a file, and files
// written by other tools with looser schemas (nullable required columns, other timestamp units).
import {
  BufferType,
  Data,
  Dictionary,
  Field,
  Int32,
  Int64,
  LargeUtf8,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
  Table as ArrowTable,
} from 'apache-arrow';
import { Compression, ParquetFile, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_SCHEMA_VERSION,
  MISSING,
  ParquetSchemaError,
  encodeEventsToParquet,
  encodeEventsToParquetStream,
  readParquetRowGroups,
  toClickEvents,
  toRecords,
} from '../../src/io/lake/parquet-events.ts';
import type { ArchiveRow, ParquetEventBatch } from '../../src/io/lake/parquet-events.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import type { ClickEvent } from '../../src/marts/types.ts';

const T0 = Date.UTC(2025, 2, 30, 0, 59, 59, 999);
const PARSE = { nowMs: Date.UTC(2030, 0, 1), maxFutureSkewMs: 300_000 };

function event(i: number, overrides: Partial<ClickEvent> = {}): ClickEvent {
  return {
    eventId: `evt-${i}`,
    eventTs: T0 + i * 1001,
    sessionId: `session-${i % 7}`,
    documentId: String(1_000_000 + i * 13),
    title: i % 5 === 0 ? null : `Title ${i}`,
    clinicalArea: i % 3 === 0 ? 'unknown' : `area-${i % 4}`,
    ...overrides,
  };
}

async function readAll(file: Blob | Uint8Array, startRow?: number): Promise<ParquetEventBatch[]> {
  const batches: ParquetEventBatch[] = [];
  for await (const batch of readParquetRowGroups(file, startRow === undefined ? {} : { startRow })) batches.push(batch);
  return batches;
}

async function roundTrip(rows: readonly ArchiveRow[], rowGroupSize?: number): Promise<ClickEvent[]> {
  const bytes = encodeEventsToParquet(rows, rowGroupSize === undefined ? {} : { rowGroupSize });
  return (await readAll(bytes)).flatMap(toClickEvents);
}

describe('encodeEventsToParquet / readParquetRowGroups', () => {
  it('keeps int64 document ids exact, beyond 2^53 and up to 2^63-1', async () => {
    const ids = ['9223372036854775807', '18014398509481985', '9007199254740993', '9007199254740991', '0', '4294967296', '4294967295'];
    const rows = ids.map((documentId, i) => event(i, { documentId }));
    const batches = await readAll(encodeEventsToParquet(rows));
    expect(batches.flatMap((b) => b.documentIds)).toEqual(ids);
    expect(batches.every((b) => b.documentIdKind === 'int')).toBe(true);
    // toRecords hands bigints to the contract, which must give the same strings back.
    const parsed = batches.flatMap((b) => toRecords(b)).map((r) => parseRawMessage(r, PARSE));
    expect(parsed.map((p) => (p.ok ? p.event.documentId : p.reason))).toEqual(ids);
  });

  it('round-trips events exactly: nulls, multi-byte UTF-8, millisecond timestamps', async () => {
    const rows: ClickEvent[] = [
      event(0, { title: null }),
      event(1, { title: '심근경색 환자의 관리 — 가이드라인 🫀', clinicalArea: '순환기내과' }),
      event(2, { title: '', clinicalArea: 'cardiology' }),
      event(3, { title: 'é'.repeat(1000), sessionId: '🧪'.repeat(128) }),
      event(4, { eventTs: 0 }),
      event(5, { eventTs: 253_402_300_799_999 }),
      event(6, { title: 'mixed ascii then ünïcödé then ascii' }),
    ];
    expect(await roundTrip(rows)).toEqual(rows);
  });

  it('writes an empty file that reads back as no batches', async () => {
    const bytes = encodeEventsToParquet([]);
    expect(bytes.length).toBeGreaterThan(0);
    expect(await readAll(bytes)).toEqual([]);
  });

  it('splits rows into row groups of the requested size and yields one batch per group', async () => {
    const rows = Array.from({ length: 2_503 }, (_, i) => event(i));
    const bytes = encodeEventsToParquet(rows, { rowGroupSize: 1_000 });
    const batches = await readAll(bytes);
    expect(batches.map((b) => [b.rowGroup, b.firstRow, b.numRows])).toEqual([
      [0, 0, 1000],
      [1, 1000, 1000],
      [2, 2000, 503],
    ]);
    expect(batches.flatMap(toClickEvents)).toEqual(rows);
  });

  it('starts inside a row group and skips the groups before it', async () => {
    const rows = Array.from({ length: 250 }, (_, i) => event(i));
    const bytes = encodeEventsToParquet(rows, { rowGroupSize: 100 });
    const batches = await readAll(new Blob([bytes]), 130);
    expect(batches.map((b) => [b.rowGroup, b.firstRow, b.numRows])).toEqual([
      [1, 130, 70],
      [2, 200, 50],
    ]);
    expect(batches.flatMap(toClickEvents)).toEqual(rows.slice(130));
    expect(await readAll(bytes, 250)).toEqual([]);
  });

  it('decodes row groups in slices of sliceRows, also from a start row inside a group', async () => {
    const rows = Array.from({ length: 250 }, (_, i) => event(i));
    const bytes = encodeEventsToParquet(rows, { rowGroupSize: 100 });
    const sliced = async (startRow: number): Promise<ParquetEventBatch[]> => {
      const batches: ParquetEventBatch[] = [];
      for await (const batch of readParquetRowGroups(bytes, { startRow, sliceRows: 40 })) batches.push(batch);
      return batches;
    };
    const all = await sliced(0);
    expect(all.map((b) => [b.rowGroup, b.firstRow, b.numRows])).toEqual([
      [0, 0, 40], [0, 40, 40], [0, 80, 20],
      [1, 100, 40], [1, 140, 40], [1, 180, 20],
      [2, 200, 40], [2, 240, 10],
    ]);
    expect(all.flatMap(toClickEvents)).toEqual(rows);
    const fromInside = await sliced(130);
    expect(fromInside.map((b) => [b.rowGroup, b.firstRow, b.numRows])).toEqual([[1, 130, 40], [1, 170, 30], [2, 200, 40], [2, 240, 10]]);
    expect(fromInside.flatMap(toClickEvents)).toEqual(rows.slice(130));
    await expect(readParquetRowGroups(bytes, { sliceRows: 0 }).next()).rejects.toThrow(RangeError);
  });

  it('records Kafka provenance when rows have it, nulls when they do not', async () => {
    const rows: ArchiveRow[] = [
      { ...event(0), partition: 3, offset: '9223372036854775806' },
      event(1),
      { ...event(2), partition: 0, offset: '0' },
    ];
    const [batch] = await readAll(encodeEventsToParquet(rows));
    expect(batch?.partitions).toEqual([3, null, 0]);
    expect(batch?.offsets).toEqual(['9223372036854775806', null, '0']);
  });

  it('writes snappy row groups and the schema version', async () => {
    const bytes = encodeEventsToParquet([event(1), event(2)]);
    const file = await ParquetFile.fromFile(new Blob([bytes]));
    try {
      const meta = file.metadata();
      const group = meta.rowGroup(0);
      expect(group.columns().every((c) => c.compression() === Compression.SNAPPY)).toBe(true);
      expect(meta.fileMetadata().createdBy()).toBe('tidemark');
      expect(file.schema().metadata().get('tidemark.curated_events.version')).toBe(ARCHIVE_SCHEMA_VERSION);
    } finally {
      file.free();
    }
  });

  it('rejects values the schema cannot hold exactly instead of writing something else', () => {
    const bad: [Partial<ArchiveRow>, RegExp][] = [
      [{ documentId: '9223372036854775808' }, /document_id/],
      [{ documentId: '' }, /document_id/],
      [{ documentId: '12a' }, /document_id/],
      [{ documentId: '-1' }, /document_id/],
      [{ eventTs: 1.5 }, /event_ts/],
      [{ offset: '99999999999999999999' }, /offset/],
      [{ partition: -1 }, /partition/],
    ];
    for (const [override, message] of bad) {
      expect(() => encodeEventsToParquet([event(0), { ...event(1), ...override }])).toThrow(message);
    }
    expect(() => encodeEventsToParquet([event(0)], { rowGroupSize: 0 })).toThrow(/rowGroupSize/);
  });

  it('fails clearly on a file without the curated columns', async () => {
    const schema = new Schema([new Field('something', new Utf8(), false)]);
    const bytes = writeForeign(schema, [utf8(['x'])], 1);
    await expect(readAll(bytes)).rejects.toThrow(ParquetSchemaError);
    await expect(readAll(bytes)).rejects.toThrow(/missing column\(s\) event_id, event_ts/);
  });
});

describe('encodeEventsToParquetStream', () => {
  async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  it('writes the same rows and row groups as the synchronous encoder', async () => {
    const rows: ArchiveRow[] = Array.from({ length: 2_345 }, (_, i) => ({
      ...event(i, i === 9 ? { documentId: '9223372036854775807', title: 'Ünïcødé 🚑' } : {}),
      partition: i % 3,
      offset: String(i),
    }));
    const bytes = await collect(await encodeEventsToParquetStream(rows, { rowGroupSize: 1_000 }));
    const batches = await readAll(bytes);
    expect(batches.map((b) => b.numRows)).toEqual([1000, 1000, 345]);
    expect(batches.flatMap(toClickEvents)).toEqual(rows.map(({ partition: _p, offset: _o, ...e }) => e));
    expect(batches.flatMap((b) => b.offsets)).toEqual(rows.map((r) => r.offset));
  });

  it('writes a readable empty file', async () => {
    expect(await readAll(await collect(await encodeEventsToParquetStream([])))).toEqual([]);
  });

  it('errors the stream on an invalid row', async () => {
    const rows = Array.from({ length: 70_000 }, (_, i) => event(i, i === 69_999 ? { documentId: 'x' } : {}));
    await expect(collect(await encodeEventsToParquetStream(rows))).rejects.toThrow(/archive row 69999: document_id/);
  });
});

describe('files written elsewhere', () => {
  it('reads nullable required columns, microsecond timestamps and text document ids; nulls reach the contract', async () => {
    const schema = new Schema([
      new Field('event_id', new Utf8(), true),
      new Field('event_ts', new TimestampMicrosecond(), true),
      new Field('session_id', new Utf8(), true),
      new Field('document_id', new Utf8(), true),
      new Field('title', new Utf8(), true),
      new Field('clinical_area', new Utf8(), true),
      new Field('extra', new Utf8(), true),
    ]);
    const ts = [1_700_000_000_123_999n, -1n, 1_700_000_000_000_000n];
    const bytes = writeForeign(
      schema,
      [
        utf8(['a', null, 'c']),
        int64Data(new TimestampMicrosecond(), ts),
        utf8(['s', 's', 's']),
        utf8(['00042', '1', '18014398509481985']),
        utf8([null, 't', 't']),
        utf8(['', null, 'x']),
        utf8(['ignored', 'ignored', 'ignored']),
      ],
      3,
    );
    const [batch] = await readAll(bytes);
    expect(batch).toBeDefined();
    if (batch === undefined) return;
    expect(Array.from(batch.eventTs)).toEqual([1_700_000_000_123, -1, 1_700_000_000_000]); // floored, not rounded
    expect(batch.documentIdKind).toBe('text');
    expect(batch.missing?.[1]).toBe(MISSING.eventId);
    expect(() => toClickEvents(batch)).toThrow(/row 1/);
    const outcomes = toRecords(batch).map((r) => parseRawMessage(r, PARSE));
    expect(outcomes[0]).toEqual({
      ok: true,
      event: { eventId: 'a', eventTs: 1_700_000_000_123, sessionId: 's', documentId: '42', title: null, clinicalArea: 'unknown' },
    });
    expect(outcomes[1]).toMatchObject({ ok: false, reason: 'wrong_type' });
    expect(outcomes[2]).toMatchObject({ ok: true, event: { documentId: '18014398509481985', clinicalArea: 'x' } });
  });

  it('reads large-offset and dictionary-encoded string columns', async () => {
    const schema = new Schema([
      new Field('event_id', new LargeUtf8(), false),
      new Field('event_ts', new TimestampMillisecond(), false),
      new Field('session_id', new Utf8(), false),
      new Field('document_id', new Int32(), false),
      new Field('title', new Dictionary(new Utf8(), new Int32()), true),
      new Field('clinical_area', new Dictionary(new Utf8(), new Int32()), true),
    ]);
    const titleDictionary = makeVector(utf8(['Ünïcødé title', 'other']));
    const areaDictionary = makeVector(utf8(['neurology']));
    const bytes = writeForeign(
      schema,
      [
        largeUtf8(['x-1', '한-2', 'x-3']),
        int64Data(new TimestampMillisecond(), [1n, 2n, 3n]),
        utf8(['s', 's', 't']),
        makeData({ type: new Int32(), length: 3, nullCount: 0, data: Int32Array.from([5, 0, 2_147_483_647]) }),
        makeData({ type: new Dictionary(new Utf8(), new Int32()), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b101), data: Int32Array.from([1, 0, 0]), dictionary: titleDictionary }),
        makeData({ type: new Dictionary(new Utf8(), new Int32()), length: 3, nullCount: 0, data: Int32Array.from([0, 0, 0]), dictionary: areaDictionary }),
      ],
      3,
    );
    const [batch] = await readAll(bytes);
    expect(batch && toClickEvents(batch)).toEqual([
      { eventId: 'x-1', eventTs: 1, sessionId: 's', documentId: '5', title: 'other', clinicalArea: 'neurology' },
      { eventId: '한-2', eventTs: 2, sessionId: 's', documentId: '0', title: null, clinicalArea: 'neurology' },
      { eventId: 'x-3', eventTs: 3, sessionId: 't', documentId: '2147483647', title: 'Ünïcødé title', clinicalArea: 'neurology' },
    ]);
  });

  it('floors nanosecond timestamps exactly, also beyond 2^53 ns', async () => {
    const schema = new Schema([
      new Field('event_id', new Utf8(), false),
      new Field('event_ts', new TimestampNanosecond('UTC'), false),
      new Field('session_id', new Utf8(), false),
      new Field('document_id', new Int64(), false),
      new Field('title', new Utf8(), true),
      new Field('clinical_area', new Utf8(), true),
    ]);
    // 1 ns before a millisecond boundary: a double would round it up to the boundary.
    const ts = [1_700_000_000_123_999_999n, 1_700_000_000_124_000_000n];
    const bytes = writeForeign(
      schema,
      [utf8(['a', 'b']), int64Data(new TimestampNanosecond('UTC'), ts), utf8(['s', 's']), int64Data(new Int64(), [7n, 8n]), utf8([null, null]), utf8([null, null])],
      2,
    );
    const [batch] = await readAll(bytes);
    expect(Array.from(batch?.eventTs ?? [])).toEqual([1_700_000_000_123, 1_700_000_000_124]);
  });
});

// ---- helpers building Parquet files the way another tool might ----

function writeForeign(schema: Schema, children: Data[], length: number): Uint8Array {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  const table = new ArrowTable([new RecordBatch(schema, struct)]);
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')));
}

function utf8(values: (string | null)[]): Data<Utf8> {
  const encoder = new TextEncoder();
  const parts = values.map((v) => (v === null ? new Uint8Array(0) : encoder.encode(v)));
  const offsets = new Int32Array(values.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = (offsets[i] as number) + p.length));
  const data = new Uint8Array(offsets[values.length] as number);
  parts.forEach((p, i) => data.set(p, offsets[i] as number));
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data });
}

function largeUtf8(values: string[]): Data<LargeUtf8> {
  const plain = utf8(values);
  return makeData({
    type: new LargeUtf8(),
    length: values.length,
    nullCount: 0,
    valueOffsets: BigInt64Array.from(plain.valueOffsets, (o) => BigInt(o)),
    data: plain.values,
  });
}

function int64Data(type: Int64 | TimestampMillisecond | TimestampMicrosecond | TimestampNanosecond, values: bigint[]): Data {
  return new Data(type, 0, values.length, 0, { [BufferType.DATA]: BigInt64Array.from(values) });
}
