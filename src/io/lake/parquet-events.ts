// The curated archive's Parquet layout (SPEC §1, §2) and its codec: ClickEvents to a snappy
// Parquet file, and a Parquet file back to column arrays one row group at a time, so that the
// archive writer, the batch recompute and file replays share one definition of the format.
//
// Arrow JS builds the columns, parquet-wasm (arrow-rs compiled to WebAssembly) encodes and
// decodes them. Both sides work on raw buffers instead of Arrow's per-value accessors: strings
// through one byte buffer plus offsets, 64-bit integers through 32-bit halves, because the
// per-value paths (vectorFromArray, BigInt per row) cost several times more on 1M-row files.
import { Buffer } from 'node:buffer';
import {
  DataType,
  Field,
  Int32,
  Int64,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimeUnit,
  TimestampMillisecond,
  Utf8,
  Table as ArrowTable,
  makeData,
  tableFromIPC,
  tableToIPC,
} from 'apache-arrow';
import type { Data, Vector } from 'apache-arrow';
import {
  Compression,
  ParquetFile,
  Table as WasmTable,
  WriterPropertiesBuilder,
  readParquet,
  transformParquetStream,
  writeParquet,
} from 'parquet-wasm';
import type { RecordBatch as WasmRecordBatch, WriterProperties } from 'parquet-wasm';
import type { ClickEvent, Utf8Column } from '../../marts/types.ts';
import { UNKNOWN_CLINICAL_AREA } from '../../marts/types.ts';
import { encodeTextDictionary } from './text-dictionary.ts';
import type { TextDictionary } from './text-dictionary.ts';

/** A ClickEvent plus, when it came from Kafka, where it was read (kept as provenance). */
export type ArchiveRow = ClickEvent & { readonly partition?: number; readonly offset?: string };

export const COLUMN = {
  eventId: 'event_id',
  eventTs: 'event_ts',
  sessionId: 'session_id',
  documentId: 'document_id',
  title: 'title',
  clinicalArea: 'clinical_area',
  kafkaPartition: 'kafka_partition',
  kafkaOffset: 'kafka_offset',
} as const;

/** Bumped when the layout changes incompatibly; stored in the file's key-value metadata. */
export const ARCHIVE_SCHEMA_VERSION = '1';
const SCHEMA_VERSION_KEY = 'tidemark.curated_events.version';

/**
 * 100k rows ≈ 20 MB of uncompressed column data: large enough for good compression and few
 * footer entries, small enough that a reader holding one row group stays well under the
 * WebAssembly heap, which grows and never shrinks.
 */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;

/**
 * Arrow batches handed to the writer stay at most this long whatever the row-group size: the
 * writer assembles row groups across batches, and short batches keep Utf8 offsets (int32) far
 * from overflowing and the JavaScript-side copy small.
 */
const MAX_ARROW_BATCH_ROWS = 65_536;

/** The archive schema. Every file tidemark writes has exactly these columns, in this order. */
export const ARCHIVE_SCHEMA = new Schema(
  [
    new Field(COLUMN.eventId, new Utf8(), false),
    new Field(COLUMN.eventTs, new TimestampMillisecond('UTC'), false),
    new Field(COLUMN.sessionId, new Utf8(), false),
    new Field(COLUMN.documentId, new Int64(), false),
    new Field(COLUMN.title, new Utf8(), true),
    new Field(COLUMN.clinicalArea, new Utf8(), true),
    // Always present (null for rows without a Kafka position) so that every archive file has
    // the same schema and engines reading a whole prefix see one table.
    new Field(COLUMN.kafkaPartition, new Int32(), true),
    new Field(COLUMN.kafkaOffset, new Int64(), true),
  ],
  new Map([[SCHEMA_VERSION_KEY, ARCHIVE_SCHEMA_VERSION]]),
);

/** A file whose columns cannot be read as curated events (missing column, unusable type). */
export class ParquetSchemaError extends Error {
  override readonly name = 'ParquetSchemaError';
}

export interface EncodeOptions {
  /** Maximum rows per row group (default DEFAULT_ROW_GROUP_SIZE). */
  readonly rowGroupSize?: number;
}

const TWO_32 = 4_294_967_296;
/** 2^53 / 2^32: a high word below this (and ≥ 0) means the int64 is a safe JS integer. */
const SAFE_HIGH_WORD = 0x20_0000;
const MAX_INT64 = 9_223_372_036_854_775_807n;
const MAX_INT32 = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * Encodes rows as one snappy-compressed Parquet file with the archive schema. Throws (naming the
 * row) on a value the schema cannot hold exactly: a non-integer event_ts, a document_id or offset
 * that is not a decimal integer in 0 … 2^63−1, a partition outside int32.
 *
 * Synchronous and simple, but the whole file passes through WebAssembly memory at once (about
 * 0.3 KB per event, and that heap never shrinks) and the event loop is blocked for the whole
 * encode: for large files in a long-running process prefer encodeEventsToParquetStream.
 */
export function encodeEventsToParquet(rows: readonly ArchiveRow[], options: EncodeOptions = {}): Uint8Array {
  const rowGroupSize = checkedRowGroupSize(options);
  const ipc = new RecordBatchStreamWriter();
  ipc.reset(undefined, ARCHIVE_SCHEMA);
  for (const [from, to] of batchRanges(rows.length, rowGroupSize)) ipc.write(encodeBatch(rows, from, to));
  ipc.finish();
  // Both are consumed (freed) by writeParquet, also when it throws.
  const table = WasmTable.fromIPCStream(ipc.toUint8Array(true));
  return writeParquet(table, writerProperties(rowGroupSize));
}

/**
 * The same file as encodeEventsToParquet, produced as a stream: Arrow batches are built and
 * handed to the WebAssembly writer one at a time (when the writer pulls), and finished row
 * groups come out as they are flushed, so WebAssembly memory stays near one row group and the
 * event loop is yielded between batches. Measured on 1M events: a third less peak RSS and a
 * quarter of the WebAssembly heap, at about the same speed. An invalid row errors the stream.
 */
export async function encodeEventsToParquetStream(
  rows: readonly ArchiveRow[],
  options: EncodeOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const rowGroupSize = checkedRowGroupSize(options);
  const ranges = batchRanges(rows.length, rowGroupSize);
  let next = 0;
  let failure: { readonly error: unknown } | null = null;
  const batches = new ReadableStream<WasmRecordBatch>(
    {
      pull(controller): void {
        const range = ranges[next++];
        if (range === undefined) {
          controller.close();
          return;
        }
        let table: WasmTable;
        try {
          table = WasmTable.fromIPCStream(tableToIPC(new ArrowTable([encodeBatch(rows, range[0], range[1])]), 'stream'));
        } catch (error) {
          // transformParquetStream treats an errored input as a normal end and writes a valid
          // but truncated file; the error is kept and re-raised on the output below instead.
          failure = { error };
          controller.close();
          return;
        }
        try {
          controller.enqueue(table.recordBatch(0) as WasmRecordBatch);
        } finally {
          table.free(); // the batch keeps its own references to the column buffers
        }
      },
    },
    // Build a batch only when the writer asks for it: no read-ahead, so no extra batch in memory.
    { highWaterMark: 0 },
  );
  const parquet = (await transformParquetStream(batches, writerProperties(rowGroupSize))) as ReadableStream<Uint8Array>;
  return parquet.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller): void {
        controller.enqueue(chunk);
      },
      flush(): void {
        // Fails the stream before its end, so a consumer never takes a truncated file as whole.
        if (failure !== null) throw failure.error;
      },
    }),
  );
}

function checkedRowGroupSize(options: EncodeOptions): number {
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  }
  return rowGroupSize;
}

/** [from, to) ranges of Arrow batches; one empty range for no rows, so the schema is still written. */
function batchRanges(count: number, rowGroupSize: number): [number, number][] {
  const batchRows = Math.min(rowGroupSize, MAX_ARROW_BATCH_ROWS);
  if (count === 0) return [[0, 0]];
  const ranges: [number, number][] = [];
  for (let from = 0; from < count; from += batchRows) ranges.push([from, Math.min(count, from + batchRows)]);
  return ranges;
}

/** A fresh object per call: writers consume (free) their properties. */
function writerProperties(rowGroupSize: number): WriterProperties {
  return new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setMaxRowGroupSize(rowGroupSize)
    .setCreatedBy('tidemark')
    .build();
}

function encodeBatch(rows: readonly ArchiveRow[], from: number, to: number): RecordBatch {
  const length = to - from;
  const children: Data[] = [
    utf8Data(rows, from, to, (r) => r.eventId),
    timestampData(rows, from, to),
    utf8Data(rows, from, to, (r) => r.sessionId),
    documentIdData(rows, from, to),
    utf8Data(rows, from, to, (r) => r.title),
    utf8Data(rows, from, to, (r) => r.clinicalArea),
    partitionData(rows, from, to),
    offsetData(rows, from, to),
  ];
  const struct = makeData({ type: new Struct(ARCHIVE_SCHEMA.fields), length, nullCount: 0, children });
  return new RecordBatch(ARCHIVE_SCHEMA, struct);
}

/**
 * One Utf8 column: all values in one byte buffer plus int32 offsets. Buffer#write is used
 * rather than TextEncoder#encodeInto because encodeInto has no offset argument, and the
 * subarray it then needs per value made it 3× slower (0.6 s vs 0.2 s per 1M short strings).
 */
function utf8Data(
  rows: readonly ArchiveRow[],
  from: number,
  to: number,
  pick: (row: ArchiveRow) => string | null,
): Data<Utf8> {
  const length = to - from;
  const offsets = new Int32Array(length + 1);
  let units = 0;
  for (let i = from; i < to; i++) units += pick(rows[i] as ArchiveRow)?.length ?? 0;
  // UTF-16 units are an exact byte count for ASCII, the common case; other text grows the buffer.
  let bytes = Buffer.allocUnsafe(Math.max(64, units + (units >> 3)));
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  let pos = 0;
  for (let i = 0; i < length; i++) {
    const value = pick(rows[from + i] as ArchiveRow);
    if (value === null) {
      if (bitmap === null) bitmap = allValid(length, i);
      nullCount++;
    } else {
      if (typeof value !== 'string') throw rowError(from + i, `expected a string or null, got ${typeof value}`);
      // A UTF-16 unit never needs more than 3 bytes: with this much room, write cannot truncate.
      const worst = value.length * 3;
      if (pos + worst > bytes.length) {
        const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, pos + worst));
        bytes.copy(grown, 0, 0, pos);
        bytes = grown;
      }
      pos += bytes.write(value, pos, 'utf8');
      if (bitmap !== null) setValid(bitmap, i);
    }
    if (pos > MAX_INT32) throw rowError(from + i, 'string column exceeds 2 GiB in one batch');
    offsets[i + 1] = pos;
  }
  return makeData({
    type: new Utf8(),
    length,
    nullCount,
    ...(bitmap === null ? {} : { nullBitmap: bitmap }),
    valueOffsets: offsets,
    data: bytes.subarray(0, pos),
  });
}

function timestampData(rows: readonly ArchiveRow[], from: number, to: number): Data<TimestampMillisecond> {
  const length = to - from;
  const values = new BigInt64Array(length);
  const words = new Uint32Array(values.buffer);
  for (let i = 0; i < length; i++) {
    const ms = (rows[from + i] as ArchiveRow).eventTs;
    if (!Number.isSafeInteger(ms)) throw rowError(from + i, `event_ts ${ms} is not an integer of epoch milliseconds`);
    writeSafeInt64(words, i, ms);
  }
  return makeData({ type: new TimestampMillisecond('UTC'), length, nullCount: 0, data: values });
}

function documentIdData(rows: readonly ArchiveRow[], from: number, to: number): Data<Int64> {
  const length = to - from;
  const values = new BigInt64Array(length);
  const words = new Uint32Array(values.buffer);
  for (let i = 0; i < length; i++) {
    const id = (rows[from + i] as ArchiveRow).documentId;
    if (!writeDecimalInt64(values, words, i, id)) {
      throw rowError(from + i, `document_id ${JSON.stringify(id)} is not a decimal integer in 0 … 2^63-1`);
    }
  }
  return makeData({ type: new Int64(), length, nullCount: 0, data: values });
}

function partitionData(rows: readonly ArchiveRow[], from: number, to: number): Data<Int32> {
  const length = to - from;
  const values = new Int32Array(length);
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    const partition = (rows[from + i] as ArchiveRow).partition;
    if (partition === undefined) {
      if (bitmap === null) bitmap = allValid(length, i);
      nullCount++;
      continue;
    }
    if (!Number.isInteger(partition) || partition < 0 || partition > MAX_INT32) {
      throw rowError(from + i, `partition ${partition} is not an integer in 0 … 2^31-1`);
    }
    values[i] = partition;
    if (bitmap !== null) setValid(bitmap, i);
  }
  return makeData({ type: new Int32(), length, nullCount, ...(bitmap === null ? {} : { nullBitmap: bitmap }), data: values });
}

function offsetData(rows: readonly ArchiveRow[], from: number, to: number): Data<Int64> {
  const length = to - from;
  const values = new BigInt64Array(length);
  const words = new Uint32Array(values.buffer);
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    const offset = (rows[from + i] as ArchiveRow).offset;
    if (offset === undefined) {
      if (bitmap === null) bitmap = allValid(length, i);
      nullCount++;
      continue;
    }
    if (!writeDecimalInt64(values, words, i, offset)) {
      throw rowError(from + i, `offset ${JSON.stringify(offset)} is not a decimal integer in 0 … 2^63-1`);
    }
    if (bitmap !== null) setValid(bitmap, i);
  }
  return makeData({ type: new Int64(), length, nullCount, ...(bitmap === null ? {} : { nullBitmap: bitmap }), data: values });
}

/**
 * Stores a decimal string in 0 … 2^63−1 at index i; false if it is not one. Up to 15 digits
 * are accumulated in a double (exact below 2^53) and written as two 32-bit words, which is
 * about 5× cheaper than BigInt(string); longer ones go through BigInt, never through a number.
 */
function writeDecimalInt64(values: BigInt64Array, words: Uint32Array, i: number, text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const n = text.length;
  if (n === 0 || n > 19) return false;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const digit = text.charCodeAt(k) - 48;
    if (digit < 0 || digit > 9) return false;
    v = v * 10 + digit;
  }
  if (n <= 15) {
    writeSafeInt64(words, i, v);
    return true;
  }
  const big = BigInt(text);
  if (big > MAX_INT64) return false;
  values[i] = big;
  return true;
}

/** Little-endian two's complement of a safe integer, as BigInt64Array would store it. */
function writeSafeInt64(words: Uint32Array, i: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  words[2 * i] = v - high * TWO_32;
  words[2 * i + 1] = high; // a negative high word wraps to its two's complement, as intended
}

/** A validity bitmap with the first `validPrefix` rows marked valid (the rows before the first null). */
function allValid(length: number, validPrefix: number): Uint8Array {
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < validPrefix; i++) setValid(bitmap, i);
  return bitmap;
}

function setValid(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
}

function rowError(row: number, message: string): RangeError {
  return new RangeError(`archive row ${row}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** Bits of ParquetEventBatch.missing: which required value of a row was null in the file. */
export const MISSING = { eventId: 1, eventTs: 2, sessionId: 4, documentId: 8 } as const;

/** One row group, or a slice of one (its tail when reading starts inside it; see sliceRows), as columns. */
export interface ParquetEventBatch {
  readonly rowGroup: number;
  /** File-wide index (0-based) of this batch's first row. */
  readonly firstRow: number;
  readonly numRows: number;
  readonly eventIds: readonly string[];
  /** Epoch milliseconds UTC (timestamps of other units are floored to milliseconds). */
  readonly eventTs: Float64Array;
  readonly sessionIds: readonly string[];
  /**
   * The same two columns as UTF-8 bytes, when the file stores them as plain UTF-8 without nulls
   * (the archive does): the batch cores deduplicate and number them from the bytes, and the
   * string arrays above are then only decoded if read.
   */
  readonly eventIdBytes?: Utf8Column;
  readonly sessionIdBytes?: Utf8Column;
  /**
   * document_id as numbers when the file stores it as int64 without nulls (the archive does):
   * NaN where the value is beyond 2^53 − 1 (read documentIds there). documentIds is then only
   * decoded if read.
   */
  readonly documentIdValues?: Float64Array;
  /** Exact decimal strings; never passed through a JS number. */
  readonly documentIds: readonly string[];
  /**
   * 'int' when the file stores document_id as an integer (the archive schema), 'text' when a
   * foreign file stores it as a string: then documentIds holds that text unvalidated.
   */
  readonly documentIdKind: 'int' | 'text';
  readonly titles: readonly (string | null)[];
  /** As stored: null or '' in files written elsewhere; toClickEvents maps them to 'unknown'. */
  readonly clinicalAreas: readonly (string | null)[];
  /** Present when the file has the provenance columns. */
  readonly partitions?: readonly (number | null)[];
  readonly offsets?: readonly (string | null)[];
  /**
   * Null when every required value is present, which the archive schema guarantees. Files
   * written elsewhere may declare required columns nullable: then rows with a null there have
   * MISSING bits set here and '' / NaN placeholders in the arrays, so that toRecords can hand
   * the null on to the event contract (which dead-letters the row) instead of failing the file.
   */
  readonly missing: Uint8Array | null;
}

export interface ReadOptions {
  /** File-wide index of the first row to return; earlier row groups are not even decoded. */
  readonly startRow?: number;
  /**
   * At most this many rows per batch (default: whole row groups). A row group is still read
   * once, but decoded into JavaScript strings a slice at a time: a slice's strings then die
   * young, in V8's young generation, whereas a whole group's (100k rows, tens of MB) outlive a
   * scavenge, get promoted and pile up as old-generation garbage until a full collection.
   */
  readonly sliceRows?: number;
  /**
   * Whether to read kafka_partition and kafka_offset (default true). The batch recomputes never
   * look at them, and every row the archive writer stores has an offset to decode into a
   * decimal string (the benchmark's generated archive has none, so it shows no gain).
   */
  readonly provenance?: boolean;
}

const REQUIRED_COLUMNS = [
  COLUMN.eventId,
  COLUMN.eventTs,
  COLUMN.sessionId,
  COLUMN.documentId,
  COLUMN.title,
  COLUMN.clinicalArea,
] as const;
const KNOWN_COLUMNS: readonly string[] = [...REQUIRED_COLUMNS, COLUMN.kafkaPartition, COLUMN.kafkaOffset];

/**
 * Yields the file's rows one row group (or slice of one, see sliceRows) at a time: only one row
 * group is held, so memory is bounded by the row-group size, not the file. A Blob (e.g. fs.openAsBlob) is read by byte
 * ranges; a Uint8Array is wrapped in one. Unknown extra columns are not read. Throws
 * ParquetSchemaError when a required column is missing or has a type that cannot carry it.
 * Breaking out of the loop releases the WebAssembly reader.
 */
export async function* readParquetRowGroups(
  file: Blob | Uint8Array,
  options: ReadOptions = {},
): AsyncGenerator<ParquetEventBatch> {
  const startRow = options.startRow ?? 0;
  if (!Number.isSafeInteger(startRow) || startRow < 0) {
    throw new RangeError(`startRow must be a non-negative integer, got ${startRow}`);
  }
  const sliceRows = options.sliceRows ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(sliceRows) || sliceRows < 1) {
    throw new RangeError(`sliceRows must be a positive integer, got ${sliceRows}`);
  }
  const opened = await openParquetFile(file, options.provenance ?? true);
  try {
    for (const { group, rows, groupStart } of groupsFrom(opened.groupRows, startRow)) {
      // Delegating to a generator of its own scopes the Arrow table to this group: it is
      // unreachable before the next group is read, instead of held across that read.
      const table = rowGroupTable(await readRowGroupIpc(opened, group), group, rows);
      yield* decodeSlices(table, group, groupStart, Math.max(0, startRow - groupStart), sliceRows);
    }
  } finally {
    opened.parquet.free();
  }
}

/** The non-empty row groups holding rows at or after startRow, with their first row's file-wide index. */
function* groupsFrom(groupRows: readonly number[], startRow: number): Generator<{ group: number; rows: number; groupStart: number }> {
  let groupStart = 0;
  for (let group = 0; group < groupRows.length; group++) {
    const rows = groupRows[group] as number;
    if (groupStart + rows > startRow && rows > 0) yield { group, rows, groupStart };
    groupStart += rows;
  }
}

/**
 * What a replay reads of one Parquet file: row groups as batches, or the part that cannot be
 * read — the whole file (not Parquet, truncated, a schema without the required columns), from a
 * row group to the end (a column of a type that cannot carry it), or one row group (a corrupt
 * page) — with the error. `rows` is null when the file's footer could not be read.
 */
export type RowGroupRead =
  | { readonly ok: true; readonly batch: ParquetEventBatch }
  | { readonly ok: false; readonly part: 'file' | 'rest' | 'group'; readonly rowGroup: number | null; readonly firstRow: number; readonly rows: number | null; readonly error: Error };

/**
 * readParquetRowGroups for inputs that may be broken (replays of files and lake objects): what
 * cannot be read is reported in place, once, at the file-wide index of its first row, and
 * reading goes on with the next row group a corrupt one leaves behind. Parts wholly before
 * startRow are skipped, readable or not, so a resumed replay reports nothing twice.
 * Row groups are decoded by parquet-wasm's synchronous reader, from the whole file in memory:
 * its asynchronous one (readRowGroupIpc) turns a decoding error into a WebAssembly trap thrown
 * outside any promise — an uncaught exception — where the synchronous one throws an Error.
 */
export async function* readParquetRowGroupsTolerantly(file: Uint8Array, options: ReadOptions = {}): AsyncGenerator<RowGroupRead> {
  const startRow = options.startRow ?? 0;
  const sliceRows = options.sliceRows ?? Number.MAX_SAFE_INTEGER;
  let opened: OpenedParquet;
  try {
    opened = await openParquetFile(file, options.provenance ?? true);
  } catch (error) {
    if (startRow === 0) yield { ok: false, part: 'file', rowGroup: null, firstRow: 0, rows: null, error: asError(error) };
    return;
  }
  try {
    for (const { group, rows, groupStart } of groupsFrom(opened.groupRows, startRow)) {
      let batches: ParquetEventBatch[];
      try {
        const ipc = readParquet(file, { rowGroups: [group], batchSize: rows, columns: opened.columns }).intoIPCStream();
        batches = [...decodeSlices(rowGroupTable(ipc, group, rows), group, groupStart, Math.max(0, startRow - groupStart), sliceRows)];
      } catch (error) {
        const rest = error instanceof ParquetSchemaError;
        if (groupStart >= startRow) {
          const total = opened.groupRows.reduce((sum, n) => sum + n, 0);
          yield { ok: false, part: rest ? 'rest' : 'group', rowGroup: group, firstRow: groupStart, rows: rest ? total - groupStart : rows, error: asError(error) };
        }
        // The same schema holds in every group: the rest of the file cannot be read either.
        if (rest) return;
        continue;
      }
      for (const batch of batches) yield { ok: true, batch };
    }
  } finally {
    opened.parquet.free();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A Parquet file opened for reading its curated-event columns one row group at a time. */
export interface OpenedParquet {
  readonly parquet: ParquetFile;
  /** The known columns the file has (required ones checked). */
  readonly columns: string[];
  /** Rows of each row group, from the footer. */
  readonly groupRows: number[];
}

/**
 * Opens a file and checks its schema (ParquetSchemaError when a required column is missing);
 * the caller frees `parquet`. `provenance`: whether to read kafka_partition / kafka_offset.
 */
export async function openParquetFile(file: Blob | Uint8Array, provenance: boolean): Promise<OpenedParquet> {
  const blob = file instanceof Uint8Array ? new Blob([file as Uint8Array<ArrayBuffer>]) : file;
  const parquet = await ParquetFile.fromFile(blob);
  try {
    return { parquet, columns: presentColumns(parquet, provenance), groupRows: rowGroupSizes(parquet) };
  } catch (error) {
    parquet.free();
    throw error;
  }
}

/**
 * One row group decoded by the WebAssembly reader, as an Arrow IPC stream: the part of reading
 * that can run on another thread (the bytes are transferable), see parquet-read-thread.ts.
 */
export async function readRowGroupIpc(opened: OpenedParquet, group: number): Promise<Uint8Array> {
  // batchSize = the whole group: one Arrow batch per column instead of chunks of 1024.
  const rows = opened.groupRows[group] as number;
  const wasmTable = await opened.parquet.read({ rowGroups: [group], batchSize: rows, columns: opened.columns });
  return wasmTable.intoIPCStream(); // consumes the WebAssembly table
}

/** A row group's IPC stream as JavaScript-side Arrow columns (views on the bytes, no copy). */
export function rowGroupTable(ipc: Uint8Array, group: number, rows: number): ArrowTable {
  const table = tableFromIPC(ipc);
  if (table.numRows !== rows) {
    throw new Error(`row group ${group}: footer says ${rows} rows, the reader returned ${table.numRows}`);
  }
  return table;
}

/**
 * The title and clinical_area columns of a row group dictionary-encoded (see text-dictionary.ts),
 * where they are plain UTF-8 in one chunk (always, for the archive): the read thread computes
 * these next to the IPC stream, and decodeSlices then decodes only the distinct values.
 */
export interface GroupDictionaries {
  readonly title?: TextDictionary;
  readonly clinicalArea?: TextDictionary;
}

export function encodeGroupDictionaries(table: ArrowTable): GroupDictionaries {
  const encode = (name: string): TextDictionary | undefined => {
    const vector = table.getChild(name);
    if (vector === null || !DataType.isUtf8(vector.type as DataType) || vector.data.length !== 1) return undefined;
    const data = vector.data[0] as Data;
    const offsets = (data.valueOffsets as Int32Array).subarray(data.offset, data.offset + data.length + 1);
    const valid = validity(data);
    const isNull = valid === null ? null : (row: number): boolean => !isValid(valid, data.offset + row);
    return encodeTextDictionary(data.values as Uint8Array, offsets, data.length, isNull);
  };
  const title = encode(COLUMN.title);
  const clinicalArea = encode(COLUMN.clinicalArea);
  return { ...(title === undefined ? {} : { title }), ...(clinicalArea === undefined ? {} : { clinicalArea }) };
}

/** The distinct values of a dictionary as strings, once per row group. */
interface DecodedDictionary {
  readonly codes: Int32Array;
  readonly values: readonly string[];
}

function decodeDictionary(dictionary: TextDictionary | undefined): DecodedDictionary | null {
  if (dictionary === undefined) return null;
  const text = Buffer.from(dictionary.bytes.buffer, dictionary.bytes.byteOffset, dictionary.bytes.byteLength);
  const values = Array.from({ length: dictionary.offsets.length - 1 }, (_, c) =>
    text.toString('utf8', dictionary.offsets[c] as number, dictionary.offsets[c + 1] as number),
  );
  return { codes: dictionary.codes, values };
}

/**
 * A row group's table as batches of at most sliceRows rows, from row `skip` of the group;
 * groupStart is the file-wide index of the group's first row. With `dictionaries` (of this
 * table), titles and areas are taken from them instead of decoded per row.
 */
export function* decodeSlices(
  table: ArrowTable,
  group: number,
  groupStart: number,
  skip: number,
  sliceRows: number,
  dictionaries: GroupDictionaries = {},
): Generator<ParquetEventBatch> {
  const decoded = { title: decodeDictionary(dictionaries.title), clinicalArea: decodeDictionary(dictionaries.clinicalArea) };
  for (let from = skip; from < table.numRows; from += sliceRows) {
    yield decodeGroup(table, group, groupStart + from, from, Math.min(sliceRows, table.numRows - from), decoded);
  }
}

/** Rows [skip, skip + count) of a dictionary-encoded column as their (shared) strings. */
function dictionaryText(dictionary: DecodedDictionary, skip: number, count: number): (string | null)[] {
  const out = new Array<string | null>(count);
  const { codes, values } = dictionary;
  for (let i = 0; i < count; i++) {
    const code = codes[skip + i] as number;
    out[i] = code < 0 ? null : (values[code] as string);
  }
  return out;
}

/** Row count of every row group, from the footer (nothing else is read). */
function rowGroupSizes(parquet: ParquetFile): number[] {
  const metadata = parquet.metadata();
  try {
    const sizes: number[] = [];
    const n = metadata.numRowGroups();
    for (let i = 0; i < n; i++) {
      const group = metadata.rowGroup(i);
      sizes.push(group.numRows());
      group.free();
    }
    return sizes;
  } finally {
    metadata.free();
  }
}

/** Which known columns the file has; fails early when a required one is missing. */
function presentColumns(parquet: ParquetFile, provenance: boolean): string[] {
  const schema = tableFromIPC(parquet.schema().intoIPCStream()).schema;
  const names = new Set(schema.fields.map((f) => f.name));
  const missing = REQUIRED_COLUMNS.filter((c) => !names.has(c));
  if (missing.length > 0) {
    throw new ParquetSchemaError(
      `not a curated-events file: missing column(s) ${missing.join(', ')}; it has ${[...names].join(', ') || 'no columns'}`,
    );
  }
  return (provenance ? KNOWN_COLUMNS : REQUIRED_COLUMNS).filter((c) => names.has(c));
}

/** Rows [skip, skip + numRows) of a row group's table as one batch. */
function decodeGroup(
  table: ArrowTable,
  rowGroup: number,
  firstRow: number,
  skip: number,
  numRows: number,
  dictionaries: { readonly title: DecodedDictionary | null; readonly clinicalArea: DecodedDictionary | null },
): ParquetEventBatch {
  const missingState: MissingState = { mask: null, numRows };
  const column = (name: string): Vector => table.getChild(name) as Vector;

  // event_id and session_id as bytes when the column allows it; their strings are then only
  // made if a consumer asks (see withLazyText).
  const eventIdBytes = utf8Column(column(COLUMN.eventId), skip, numRows);
  const eventIds = eventIdBytes === null ? decodeText(column(COLUMN.eventId), COLUMN.eventId, skip, numRows, missingState, MISSING.eventId) : null;
  const eventTs = decodeTimestamps(column(COLUMN.eventTs), skip, numRows, missingState);
  const sessionIdBytes = utf8Column(column(COLUMN.sessionId), skip, numRows);
  const sessionIds = sessionIdBytes === null ? decodeText(column(COLUMN.sessionId), COLUMN.sessionId, skip, numRows, missingState, MISSING.sessionId) : null;
  const documentColumn = column(COLUMN.documentId);
  const documentIdKind = isText(documentColumn.type) ? 'text' : 'int';
  const documentIdValues = documentIdKind === 'int' ? safeInt64Values(documentColumn, skip, numRows) : null;
  const documentIds =
    documentIdValues !== null
      ? null
      : documentIdKind === 'text'
        ? decodeText(documentColumn, COLUMN.documentId, skip, numRows, missingState, MISSING.documentId)
        : decodeIntegers(documentColumn, COLUMN.documentId, skip, numRows, missingState, MISSING.documentId);
  const titles =
    dictionaries.title === null ? decodeNullableText(column(COLUMN.title), COLUMN.title, skip, numRows) : dictionaryText(dictionaries.title, skip, numRows);
  const clinicalAreas =
    dictionaries.clinicalArea === null
      ? decodeNullableText(column(COLUMN.clinicalArea), COLUMN.clinicalArea, skip, numRows)
      : dictionaryText(dictionaries.clinicalArea, skip, numRows);

  const partitionColumn = table.getChild(COLUMN.kafkaPartition);
  const offsetColumn = table.getChild(COLUMN.kafkaOffset);
  const batch: ParquetEventBatch = {
    rowGroup,
    firstRow,
    numRows,
    eventIds: eventIds as string[],
    eventTs,
    sessionIds: sessionIds as string[],
    ...(eventIdBytes === null ? {} : { eventIdBytes }),
    ...(sessionIdBytes === null ? {} : { sessionIdBytes }),
    ...(documentIdValues === null ? {} : { documentIdValues }),
    documentIds: documentIds as string[],
    documentIdKind,
    titles,
    clinicalAreas,
    ...(partitionColumn === null ? {} : { partitions: decodeSmallIntegers(partitionColumn, COLUMN.kafkaPartition, skip, numRows) }),
    ...(offsetColumn === null ? {} : { offsets: decodeIntegers(offsetColumn, COLUMN.kafkaOffset, skip, numRows, null, 0) }),
    missing: missingState.mask,
  };
  if (eventIdBytes !== null) withLazyText(batch, 'eventIds', eventIdBytes);
  if (sessionIdBytes !== null) withLazyText(batch, 'sessionIds', sessionIdBytes);
  if (documentIdValues !== null) {
    Object.defineProperty(batch, 'documentIds', {
      enumerable: true,
      configurable: true,
      get(): string[] {
        const ids = decodeIntegers(documentColumn, COLUMN.documentId, skip, numRows, null, 0) as string[];
        Object.defineProperty(batch, 'documentIds', { value: ids, enumerable: true });
        return ids;
      },
    });
  }
  return batch;
}

/**
 * A 64-bit integer column without nulls as doubles, NaN where a value is negative or beyond
 * 2^53 − 1 (there the decimal text is exact, the double would not be); null for other columns.
 */
function safeInt64Values(vector: Vector, skip: number, count: number): Float64Array | null {
  const type = vector.type as DataType;
  if (!DataType.isInt(type) || type.bitWidth !== 64 || vector.nullCount > 0) return null;
  const out = new Float64Array(count);
  forEachChunk(vector, skip, count, (data, from, to, row) => {
    const typed = data.values as BigInt64Array | BigUint64Array;
    const words = new Uint32Array(typed.buffer, typed.byteOffset, typed.length * 2);
    for (let i = from; i < to; i++) {
      const k = data.offset + i;
      const high = words[2 * k + 1] as number;
      out[row + i - from] = high < SAFE_HIGH_WORD ? high * TWO_32 + (words[2 * k] as number) : Number.NaN;
    }
  });
  return out;
}

/**
 * A plain UTF-8 column without nulls, sliced to [skip, skip + count) as its bytes, or null when
 * the column is of another kind or the slice spans two Arrow chunks (then the strings are decoded).
 */
function utf8Column(vector: Vector, skip: number, count: number): Utf8Column | null {
  if (!DataType.isUtf8(vector.type as DataType) || vector.nullCount > 0) return null;
  let base = 0;
  for (const data of vector.data) {
    if (skip >= base && skip + count <= base + data.length) {
      const k = data.offset + skip - base;
      return { bytes: data.values as Uint8Array, offsets: (data.valueOffsets as Int32Array).subarray(k, k + count + 1) };
    }
    base += data.length;
  }
  return null;
}

/** Makes batch[key] the strings of column, decoded on first access (once) rather than up front. */
function withLazyText(batch: object, key: 'eventIds' | 'sessionIds', column: Utf8Column): void {
  Object.defineProperty(batch, key, {
    enumerable: true,
    configurable: true,
    get(): string[] {
      const text = Buffer.from(column.bytes.buffer, column.bytes.byteOffset, column.bytes.byteLength);
      const strings = Array.from({ length: column.offsets.length - 1 }, (_, i) => text.toString('utf8', column.offsets[i] as number, column.offsets[i + 1] as number));
      Object.defineProperty(batch, key, { value: strings, enumerable: true });
      return strings;
    },
  });
}

interface MissingState {
  mask: Uint8Array | null;
  readonly numRows: number;
}

/** Records a null in a required column (no-op for optional columns, state null). */
function markMissing(state: MissingState | null, row: number, bit: number): void {
  if (state === null) return;
  state.mask ??= new Uint8Array(state.numRows);
  state.mask[row] = (state.mask[row] as number) | bit;
}

function isText(type: DataType): boolean {
  return (
    DataType.isUtf8(type) ||
    DataType.isLargeUtf8(type) ||
    DataType.isUtf8View(type) ||
    (DataType.isDictionary(type) && isText(type.dictionary))
  );
}

/**
 * Walks the rows [skip, skip + count) of a possibly chunked vector chunk by chunk: visit(data,
 * first index in data, end index in data, output row of the first) — the decoders loop over
 * the raw buffers themselves, with no call per value.
 */
function forEachChunk(
  vector: Vector,
  skip: number,
  count: number,
  visit: (data: Data, from: number, to: number, row: number) => void,
): void {
  let base = 0;
  const end = skip + count;
  for (const data of vector.data) {
    const from = Math.max(skip, base);
    const to = Math.min(end, base + data.length);
    if (from < to) visit(data, from - base, to - base, from - skip);
    base += data.length;
    if (base >= end) break;
  }
}

/** The validity bitmap when the chunk has nulls, else null (every value present). */
function validity(data: Data): Uint8Array | null {
  const bitmap = data.nullBitmap;
  return data.nullCount === 0 || bitmap === undefined || bitmap.length === 0 ? null : bitmap;
}

function isValid(bitmap: Uint8Array | null, bit: number): boolean {
  return bitmap === null || ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) !== 0;
}

/** Required text: nulls become '' and a MISSING bit. */
function decodeText(
  vector: Vector,
  name: string,
  skip: number,
  count: number,
  missing: MissingState,
  bit: number,
): (string | null)[] {
  const out = decodeNullableText(vector, name, skip, count);
  if (vector.nullCount > 0) {
    for (let i = 0; i < count; i++) {
      if (out[i] === null) {
        out[i] = '';
        markMissing(missing, i, bit);
      }
    }
  }
  return out;
}

function decodeNullableText(vector: Vector, name: string, skip: number, count: number): (string | null)[] {
  const type = vector.type as DataType;
  if (!isText(type)) throw columnTypeError(name, type, 'a string type');
  const out = new Array<string | null>(count);
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
    const large = DataType.isLargeUtf8(type);
    // Decoding straight from the value buffer: Buffer#toString is about 2× TextDecoder here.
    forEachChunk(vector, skip, count, (data, from, to, row) => {
      const values = data.values as Uint8Array;
      const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      const valid = validity(data);
      const shift = data.offset;
      if (!large) {
        const offsets = data.valueOffsets as Int32Array;
        for (let i = from; i < to; i++) {
          const k = shift + i;
          out[row + i - from] = isValid(valid, k)
            ? bytes.toString('utf8', offsets[k] as number, offsets[k + 1] as number)
            : null;
        }
      } else {
        const offsets = data.valueOffsets as unknown as BigInt64Array;
        for (let i = from; i < to; i++) {
          const k = shift + i;
          out[row + i - from] = isValid(valid, k)
            ? bytes.toString('utf8', Number(offsets[k]), Number(offsets[k + 1]))
            : null;
        }
      }
    });
  } else {
    // Views and dictionaries are rare in files we read; Arrow's accessor is fast enough there.
    for (let i = 0; i < count; i++) out[i] = (vector.get(skip + i) as string | null) ?? null;
  }
  return out;
}

function decodeTimestamps(vector: Vector, skip: number, count: number, missing: MissingState): Float64Array {
  const type = vector.type as DataType;
  let msPerUnit = 1;
  let unitsPerMs = 1;
  if (DataType.isTimestamp(type)) {
    if (type.unit === TimeUnit.SECOND) msPerUnit = 1000;
    else if (type.unit === TimeUnit.MICROSECOND) unitsPerMs = 1000;
    else if (type.unit === TimeUnit.NANOSECOND) unitsPerMs = 1_000_000;
  } else if (!(DataType.isInt(type) && type.bitWidth === 64 && type.isSigned)) {
    // A plain int64 is read as epoch milliseconds, as in the JSON form of the event.
    throw columnTypeError(COLUMN.eventTs, type, 'a timestamp or int64 epoch milliseconds');
  }
  const out = new Float64Array(count);
  forEachChunk(vector, skip, count, (data, from, to, row) => {
    const values = data.values as BigInt64Array;
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    const valid = validity(data);
    for (let i = from; i < to; i++) {
      const k = data.offset + i;
      const r = row + i - from;
      if (!isValid(valid, k)) {
        out[r] = Number.NaN;
        markMissing(missing, r, MISSING.eventTs);
        continue;
      }
      const raw = (words[2 * k + 1] as number) * TWO_32 + ((words[2 * k] as number) >>> 0);
      if (Math.abs(raw) <= Number.MAX_SAFE_INTEGER) {
        if (unitsPerMs === 1) {
          out[r] = raw * msPerUnit;
        } else {
          // Exact floor division: % of two integers is exact in doubles, the quotient then too.
          const remainder = raw % unitsPerMs;
          out[r] = (raw - remainder) / unitsPerMs - (remainder < 0 ? 1 : 0);
        }
      } else if (unitsPerMs === 1) {
        out[r] = Number(values[k] as bigint) * msPerUnit; // far outside the contract's range either way
      } else {
        const big = values[k] as bigint;
        const unit = BigInt(unitsPerMs);
        const quotient = big / unit;
        out[r] = Number(big % unit < 0n ? quotient - 1n : quotient);
      }
    }
  });
  return out;
}

/** Integer column to exact decimal strings; nulls are null (and a MISSING bit when required). */
function decodeIntegers(
  vector: Vector,
  name: string,
  skip: number,
  count: number,
  missing: MissingState | null,
  bit: number,
): (string | null)[] {
  const type = vector.type as DataType;
  if (!DataType.isInt(type)) throw columnTypeError(name, type, 'an integer type');
  const out = new Array<string | null>(count);
  if (vector.nullCount === vector.length && missing === null) {
    // An all-null optional column (provenance of rows that did not come from Kafka).
    return out.fill(null);
  }
  const wide = type.bitWidth === 64;
  forEachChunk(vector, skip, count, (data, from, to, row) => {
    const values = data.values as ArrayLike<number | bigint>;
    const typed = data.values as BigInt64Array | BigUint64Array;
    const words = wide ? new Uint32Array(typed.buffer, typed.byteOffset, typed.length * 2) : null;
    const valid = validity(data);
    for (let i = from; i < to; i++) {
      const k = data.offset + i;
      const r = row + i - from;
      if (!isValid(valid, k)) {
        if (missing === null) {
          out[r] = null;
        } else {
          out[r] = '';
          markMissing(missing, r, bit);
        }
      } else if (words === null) {
        out[r] = String(values[k]);
      } else {
        // A high word below 2^21 means a non-negative safe integer (a negative int64's high
        // word, read unsigned, is ≥ 2^31), and formatting a double is cheaper than a BigInt.
        const high = words[2 * k + 1] as number;
        out[r] = high < SAFE_HIGH_WORD ? String(high * TWO_32 + (words[2 * k] as number)) : String(values[k] as bigint);
      }
    }
  });
  return out;
}

function decodeSmallIntegers(vector: Vector, name: string, skip: number, count: number): (number | null)[] {
  const type = vector.type as DataType;
  if (!DataType.isInt(type) || type.bitWidth > 32) throw columnTypeError(name, type, 'an integer of at most 32 bits');
  const out = new Array<number | null>(count);
  if (vector.nullCount === vector.length) return out.fill(null);
  forEachChunk(vector, skip, count, (data, from, to, row) => {
    const values = data.values as ArrayLike<number>;
    const valid = validity(data);
    for (let i = from; i < to; i++) {
      const k = data.offset + i;
      out[row + i - from] = isValid(valid, k) ? (values[k] as number) : null;
    }
  });
  return out;
}

function columnTypeError(name: string, type: DataType, expected: string): ParquetSchemaError {
  return new ParquetSchemaError(`column ${name}: type ${String(type)} cannot be read; expected ${expected}`);
}

// ---------------------------------------------------------------------------------------------
// Batch to events or records
// ---------------------------------------------------------------------------------------------

/**
 * Throws when a required value of the batch is null (never in files tidemark wrote): such rows
 * cannot be read as ClickEvents, only through toRecords and the event contract.
 */
export function assertRequiredPresent(batch: ParquetEventBatch): void {
  if (batch.missing !== null) {
    const row = batch.missing.findIndex((bits) => bits !== 0);
    throw new Error(`row ${batch.firstRow + row}: a required column is null; read it with toRecords instead`);
  }
}

/**
 * The batch's rows as ClickEvents, without re-validation: for files tidemark wrote, whose rows
 * passed the event contract before archiving. Files from elsewhere go through toRecords and
 * parseRawMessage instead. Throws if a required value is null.
 */
export function toClickEvents(batch: ParquetEventBatch): ClickEvent[] {
  assertRequiredPresent(batch);
  const n = batch.numRows;
  const events = new Array<ClickEvent>(n);
  for (let i = 0; i < n; i++) {
    const area = batch.clinicalAreas[i];
    events[i] = {
      eventId: batch.eventIds[i] as string,
      eventTs: batch.eventTs[i] as number,
      sessionId: batch.sessionIds[i] as string,
      documentId: batch.documentIds[i] as string,
      title: batch.titles[i] as string | null,
      clinicalArea: area === null || area === undefined || area === '' ? UNKNOWN_CLINICAL_AREA : area,
    };
  }
  return events;
}

/**
 * A row as the event contract reads Parquet records (SPEC §2 field names). A type alias, not an
 * interface, so that it is assignable to RawMessage's Record<string, unknown>.
 */
export type ParquetEventRecord = {
  readonly event_id: string | null;
  /** Epoch milliseconds; null when the file held a null. */
  readonly event_ts: number | null;
  readonly session_id: string | null;
  /** bigint when the file stores an integer, the stored text when it stores a string. */
  readonly document_id: bigint | string | null;
  readonly title: string | null;
  readonly clinical_area: string | null;
};

/**
 * Rows [from, to) of the batch as plain records for parseRawMessage, which validates them; a
 * null in a required column stays null there, so the contract dead-letters that row.
 */
export function toRecords(batch: ParquetEventBatch, from = 0, to = batch.numRows): ParquetEventRecord[] {
  const records = new Array<ParquetEventRecord>(Math.max(0, to - from));
  const missing = batch.missing;
  const intIds = batch.documentIdKind === 'int';
  for (let i = from; i < to; i++) {
    const bits = missing === null ? 0 : (missing[i] as number);
    const documentId = batch.documentIds[i] as string;
    records[i - from] = {
      event_id: bits & MISSING.eventId ? null : (batch.eventIds[i] as string),
      event_ts: bits & MISSING.eventTs ? null : (batch.eventTs[i] as number),
      session_id: bits & MISSING.sessionId ? null : (batch.sessionIds[i] as string),
      document_id: bits & MISSING.documentId ? null : intIds ? BigInt(documentId) : documentId,
      title: batch.titles[i] as string | null,
      clinical_area: batch.clinicalAreas[i] as string | null,
    };
  }
  return records;
}
