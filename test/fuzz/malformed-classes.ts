// A seeded generator of malformed messages, class by class, each with the outcome the event
// contract must give it (a dead-letter reason, or 'valid' for the odd-looking messages that are
// events). Every message is raw bytes without a \n, so that a JSON Lines file and a Kafka topic
// can carry exactly the same ones. The expectations are written down here, independently of the
// contract's code: a class whose outcome changes is a change of the contract.
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ParquetFile, Table as WasmTable, writeParquet } from 'parquet-wasm';
import type { ArchiveRow } from '../../src/io/lake/parquet-events.ts';
import type { DeadLetterReason } from '../../src/marts/types.ts';

export type Expected = DeadLetterReason | 'valid';

export interface MalformedClass {
  readonly name: string;
  readonly expected: Expected;
  /** One message of the class; `n` makes ids unique, `rng` varies the rest. */
  make(n: number, rng: () => number): Buffer;
}

/** mulberry32: small, fast and good enough to vary test data from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Event time of every generated event: far enough back that no valid one is ever future or late. */
export const FUZZ_EVENT_TS = '2026-01-10T10:00:00Z';

type Fields = Record<string, unknown>;

function baseEvent(n: number, rng: () => number): Fields {
  return {
    event_id: `fz-${n}`,
    event_ts: FUZZ_EVENT_TS,
    session_id: `s${Math.floor(rng() * 50)}`,
    document_id: Math.floor(rng() * 1000),
    title: `title ${Math.floor(rng() * 100)}`,
    clinical_area: ['cardiology', 'oncology', null, ''][Math.floor(rng() * 4)] ?? null,
  };
}

function json(fields: Fields): Buffer {
  return Buffer.from(JSON.stringify(fields));
}

/** The event with `change` applied (undefined deletes a field). */
function withFields(change: Fields): (n: number, rng: () => number) => Buffer {
  return (n, rng) => {
    const fields = { ...baseEvent(n, rng), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete fields[k];
    return json(fields);
  };
}

/** The event's JSON text with `from` replaced by `to` (for what JSON.stringify cannot write). */
function editedText(from: string, to: string): (n: number, rng: () => number) => Buffer {
  return (n, rng) => Buffer.from(JSON.stringify(baseEvent(n, rng)).replace(from, to));
}

/** The event with raw bytes spliced into its event_id's value. */
function bytesInId(bytes: readonly number[]): (n: number, rng: () => number) => Buffer {
  return (n, rng) => {
    const text = JSON.stringify(baseEvent(n, rng));
    const at = text.indexOf('fz-') + 3;
    return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
  };
}

const c = (name: string, expected: Expected, make: MalformedClass['make']): MalformedClass => ({ name, expected, make });

export const MALFORMED_CLASSES: readonly MalformedClass[] = [
  // ---- bytes and encodings ----
  c('lone continuation byte', 'invalid_encoding', bytesInId([0x80])),
  c('0xFF byte', 'invalid_encoding', bytesInId([0xff])),
  c('0xFE byte', 'invalid_encoding', bytesInId([0xfe])),
  c('overlong 2-byte slash', 'invalid_encoding', bytesInId([0xc0, 0xaf])),
  c('overlong 3-byte slash', 'invalid_encoding', bytesInId([0xe0, 0x80, 0xaf])),
  c('overlong 4-byte', 'invalid_encoding', bytesInId([0xf0, 0x80, 0x80, 0xaf])),
  c('UTF-8 encoded surrogate', 'invalid_encoding', bytesInId([0xed, 0xa0, 0x80])),
  c('truncated 3-byte sequence', 'invalid_encoding', bytesInId([0xe2, 0x82])),
  c('code point above U+10FFFF', 'invalid_encoding', bytesInId([0xf4, 0x90, 0x80, 0x80])),
  c('Latin-1 e-acute', 'invalid_encoding', bytesInId([0xe9])),
  c('UTF-16LE text', 'invalid_encoding', (n, rng) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(baseEvent(n, rng)), 'utf16le')])),
  c('random bytes after 0xFF', 'invalid_encoding', (_n, rng) => Buffer.from([0xff, ...Array.from({ length: 40 }, () => 0x0b + Math.floor(rng() * 0xf0))])),
  // ---- JSON syntax ----
  c('empty message', 'invalid_json', () => Buffer.alloc(0)),
  c('spaces only', 'invalid_json', () => Buffer.from('   ')),
  c('truncated object', 'invalid_json', (n, rng) => json(baseEvent(n, rng)).subarray(0, 30)),
  c('trailing comma', 'invalid_json', (n, rng) => Buffer.from(JSON.stringify(baseEvent(n, rng)).replace(/}$/, ',}'))),
  c('single quotes', 'invalid_json', (n, rng) => Buffer.from(JSON.stringify(baseEvent(n, rng)).replaceAll('"', "'"))),
  c('unquoted keys', 'invalid_json', (n, rng) => Buffer.from(JSON.stringify(baseEvent(n, rng)).replace(/"([a-z_]+)":/g, '$1:'))),
  c('raw NUL in a string', 'invalid_json', bytesInId([0x00])),
  c('raw NUL between tokens', 'invalid_json', editedText(',"event_ts"', ',\u0000"event_ts"')),
  c('raw tab in a string', 'invalid_json', bytesInId([0x09])),
  c('raw CR in a string', 'invalid_json', bytesInId([0x0d])),
  c('raw escape byte in a string', 'invalid_json', bytesInId([0x1b])),
  c('NaN literal', 'invalid_json', editedText('"document_id":', '"document_id":NaN,"x":')),
  c('Infinity literal', 'invalid_json', editedText('"document_id":', '"document_id":Infinity,"x":')),
  c('comment', 'invalid_json', (n, rng) => Buffer.from(`/* event */ ${JSON.stringify(baseEvent(n, rng))}`)),
  c('two objects', 'invalid_json', (n, rng) => Buffer.from(JSON.stringify(baseEvent(n, rng)).repeat(2))),
  c('trailing garbage', 'invalid_json', (n, rng) => Buffer.from(`${JSON.stringify(baseEvent(n, rng))} x`)),
  c('invalid escape', 'invalid_json', editedText('"fz-', '"\\x41fz-')),
  c('unterminated string', 'invalid_json', (n) => Buffer.from(`{"event_id": "fz-${n}`)),
  c('a brace only', 'invalid_json', () => Buffer.from('{')),
  // ---- not an object ----
  c('array', 'not_an_object', () => Buffer.from('[]')),
  c('array of an event', 'not_an_object', (n, rng) => Buffer.from(`[${JSON.stringify(baseEvent(n, rng))}]`)),
  c('string', 'not_an_object', (n) => Buffer.from(`"fz-${n}"`)),
  c('number', 'not_an_object', (n) => Buffer.from(String(n))),
  c('null', 'not_an_object', () => Buffer.from('null')),
  c('true', 'not_an_object', () => Buffer.from('true')),
  // ---- fields missing ----
  ...['event_id', 'event_ts', 'session_id', 'document_id', 'title', 'clinical_area'].map((f) => c(`missing ${f}`, 'missing_field', withFields({ [f]: undefined }))),
  c('empty object', 'missing_field', () => Buffer.from('{}')),
  // ---- wrong types ----
  c('event_id number', 'wrong_type', withFields({ event_id: 17 })),
  c('event_id null', 'wrong_type', withFields({ event_id: null })),
  c('event_ts boolean', 'wrong_type', withFields({ event_ts: true })),
  c('event_ts object', 'wrong_type', withFields({ event_ts: { at: FUZZ_EVENT_TS } })),
  c('event_ts null', 'wrong_type', withFields({ event_ts: null })),
  c('session_id array', 'wrong_type', withFields({ session_id: ['s1'] })),
  c('document_id boolean', 'wrong_type', withFields({ document_id: false })),
  c('document_id null', 'wrong_type', withFields({ document_id: null })),
  c('title number', 'wrong_type', withFields({ title: 5 })),
  c('clinical_area object', 'wrong_type', withFields({ clinical_area: {} })),
  // ---- values and bounds ----
  c('empty event_id', 'invalid_value', withFields({ event_id: '' })),
  c('event_id of 129 characters', 'invalid_value', (n, rng) => json({ ...baseEvent(n, rng), event_id: `fz-${n}-`.padEnd(129, 'i') })),
  c('empty session_id', 'invalid_value', withFields({ session_id: '' })),
  c('title of 1001 characters', 'invalid_value', withFields({ title: 't'.repeat(1001) })),
  c('clinical_area of 201 characters', 'invalid_value', withFields({ clinical_area: 'a'.repeat(201) })),
  c('escaped NUL in event_id', 'invalid_value', editedText('"fz-', '"\\u0000fz-')),
  c('escaped lone surrogate in event_id', 'invalid_value', editedText('"fz-', '"\\ud800fz-')),
  c('negative document_id', 'invalid_value', withFields({ document_id: -1 })),
  c('fractional document_id', 'invalid_value', withFields({ document_id: 1.5 })),
  c('document_id with letters', 'invalid_value', withFields({ document_id: '12a' })),
  c('document_id above 2^63-1', 'invalid_value', withFields({ document_id: '9223372036854775808' })),
  c('empty document_id string', 'invalid_value', withFields({ document_id: '' })),
  c('signed document_id string', 'invalid_value', withFields({ document_id: '+5' })),
  c('negative document_id string', 'invalid_value', withFields({ document_id: '-1' })),
  // ---- numbers a parser rounds ----
  c('document_id above 2^53-1', 'unsafe_number', editedText('"document_id":', '"document_id":9007199254740993,"x":')),
  c('event_ts 1e300', 'unsafe_number', withFields({ event_ts: 1e300 })),
  // ---- timestamps ----
  c('timestamp without offset', 'invalid_timestamp', withFields({ event_ts: '2026-01-10T10:00:00' })),
  c('February 30th', 'invalid_timestamp', withFields({ event_ts: '2026-02-30T10:00:00Z' })),
  c('hour 24', 'invalid_timestamp', withFields({ event_ts: '2026-01-10T24:00:00Z' })),
  c('leap second', 'invalid_timestamp', withFields({ event_ts: '2016-12-31T23:59:60Z' })),
  c('negative epoch', 'invalid_timestamp', withFields({ event_ts: -1 })),
  c('fractional epoch', 'invalid_timestamp', withFields({ event_ts: 1.5 })),
  c('epoch past year 9999', 'invalid_timestamp', withFields({ event_ts: 253_402_300_800_000 })),
  c('a word', 'invalid_timestamp', withFields({ event_ts: 'yesterday' })),
  c('offset hour 24', 'invalid_timestamp', withFields({ event_ts: '2026-01-10T10:00:00+24:00' })),
  c('far future', 'future_timestamp', withFields({ event_ts: '2999-01-01T00:00:00Z' })),
  // ---- sizes ----
  c('64 KiB + 1 byte', 'too_large', (n, rng) => padded(baseEvent(n, rng), 65_537)),
  // Below the broker's default message limit (1 MiB), so that Kafka can carry it too.
  c('about 900 KiB', 'too_large', (n, rng) => padded(baseEvent(n, rng), 900_000 + Math.floor(rng() * 1000))),
  // ---- odd but valid: each is one event, counted once ----
  c('exactly 64 KiB', 'valid', (n, rng) => padded(baseEvent(n, rng), 65_536)),
  c('UTF-8 byte order mark', 'valid', (n, rng) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(baseEvent(n, rng))])),
  c('U+2028 and U+2029 in title', 'valid', (n, rng) => json({ ...baseEvent(n, rng), title: 'a\u2028b\u2029c' })),
  c('CR between tokens', 'valid', editedText(',"event_ts"', ',\r"event_ts"')),
  c('unknown extra field', 'valid', (n, rng) => json({ ...baseEvent(n, rng), extra: { nested: [1, 2] } })),
  c('emoji and CJK', 'valid', (n, rng) => json({ ...baseEvent(n, rng), title: '🩺 心臓 ✓' })),
  c('document_id as decimal string', 'valid', withFields({ document_id: '000123' })),
  c('epoch milliseconds', 'valid', withFields({ event_ts: Date.parse(FUZZ_EVENT_TS) })),
  c('offset +05:30', 'valid', withFields({ event_ts: '2026-01-10T15:30:00+05:30' })),
];

/** The event with a padding field so that its JSON is exactly `bytes` long. */
function padded(fields: Fields, bytes: number): Buffer {
  const without = JSON.stringify({ ...fields, padding: '' });
  return json({ ...fields, padding: 'p'.repeat(bytes - Buffer.byteLength(without)) });
}

export interface FuzzMessage {
  readonly value: Buffer;
  readonly className: string;
  readonly expected: Expected;
}

/**
 * `perClass` messages of every class, shuffled with as many plain valid events between them.
 * Every event_id is unique, so every valid message must be applied exactly once.
 */
export function fuzzMessages(seed: number, perClass: number): FuzzMessage[] {
  const rng = seededRandom(seed);
  const out: FuzzMessage[] = [];
  let n = 0;
  for (const cls of MALFORMED_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      out.push({ value: cls.make(n++, rng), className: cls.name, expected: cls.expected });
      out.push({ value: json(baseEvent(n++, rng)), className: 'plain event', expected: 'valid' });
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The classes a Parquet file in the archive's schema can carry (typed columns: only values, not
 * bytes or shapes, can be wrong), as archive rows. Same names as their JSON counterparts above, so
 * that a test can check they get the same reason whatever the source.
 */
export const RECORD_CLASSES: readonly { readonly name: string; readonly row: (n: number) => ArchiveRow }[] = [
  { name: 'empty event_id', row: (n) => ({ ...archiveRow(n), eventId: '' }) },
  { name: 'event_id of 129 characters', row: (n) => ({ ...archiveRow(n), eventId: `fz-${n}-`.padEnd(129, 'i') }) },
  { name: 'empty session_id', row: (n) => ({ ...archiveRow(n), sessionId: '' }) },
  { name: 'title of 1001 characters', row: (n) => ({ ...archiveRow(n), title: 't'.repeat(1001) }) },
  { name: 'clinical_area of 201 characters', row: (n) => ({ ...archiveRow(n), clinicalArea: 'a'.repeat(201) }) },
  { name: 'escaped NUL in event_id', row: (n) => ({ ...archiveRow(n), eventId: `\u0000fz-${n}` }) },
  { name: 'far future', row: (n) => ({ ...archiveRow(n), eventTs: Date.parse('2999-01-01T00:00:00Z') }) },
  { name: 'emoji and CJK', row: (n) => ({ ...archiveRow(n), title: '🩺 心臓 ✓' }) },
];

function archiveRow(n: number): ArchiveRow {
  return { eventId: `fz-${n}`, eventTs: Date.parse(FUZZ_EVENT_TS), sessionId: `s${n % 50}`, documentId: String(n % 1000), title: `title ${n % 100}`, clinicalArea: 'cardiology', partition: 0, offset: String(n) };
}

/** Record classes `perClass` times each, between as many plain rows, in a seeded order. */
export function fuzzRows(seed: number, perClass: number): { readonly row: ArchiveRow; readonly className: string; readonly expected: Expected }[] {
  const rng = seededRandom(seed);
  const expectedOf = new Map(MALFORMED_CLASSES.map((cls) => [cls.name, cls.expected]));
  const out: { row: ArchiveRow; className: string; expected: Expected }[] = [];
  let n = 0;
  for (const cls of RECORD_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      out.push({ row: cls.row(n++), className: cls.name, expected: expectedOf.get(cls.name)! });
      out.push({ row: archiveRow(n++), className: 'plain event', expected: 'valid' });
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  // Offsets in file order, as the archive writes them.
  return out.map((x, offset) => ({ ...x, row: { ...x.row, offset: String(offset) } }));
}

/**
 * Parquet files that cannot be read as events, each built around a valid archive file of
 * `rows` rows in row groups of `groupRows` (the file a class breaks). A file that cannot be read
 * at all is one dead letter (at offset 0); a corrupt row group is one dead letter at its first
 * row, and the other groups' rows are events. `validRows` is what must be applied.
 */
export interface ParquetFileClass {
  readonly name: string;
  readonly expected: 'parquet_unreadable' | 'parquet_schema';
  make(valid: Uint8Array, rng: () => number): Promise<ParquetFileCase>;
}

export interface ParquetFileCase {
  readonly bytes: Uint8Array;
  /** Offsets of the dead letters the file must give. */
  readonly deadAt: readonly number[];
  readonly validRows: number;
}

export const PARQUET_GROUP_ROWS = 7;
export const PARQUET_ROWS = 3 * PARQUET_GROUP_ROWS;

const wholeFile = async (bytes: Uint8Array): Promise<ParquetFileCase> => ({ bytes, deadAt: [0], validRows: 0 });

/** A Parquet file of other columns (`columns` of int32), written as any Arrow tool would. */
function foreignParquet(columns: Record<string, Int32Array | string[]>): Uint8Array {
  const table = tableFromArrays(columns as Parameters<typeof tableFromArrays>[0]);
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')));
}

/** Offset of row group `group`'s first byte: row groups follow the 4-byte magic number in order. */
async function rowGroupStart(file: Uint8Array, group: number): Promise<number> {
  const parquet = await ParquetFile.fromFile(new Blob([file as Uint8Array<ArrayBuffer>]));
  const metadata = parquet.metadata();
  try {
    let at = 4;
    for (let g = 0; g < group; g++) at += metadata.rowGroup(g).compressedSize();
    return at;
  } finally {
    metadata.free();
    parquet.free();
  }
}

export const PARQUET_FILE_CLASSES: readonly ParquetFileClass[] = [
  { name: 'truncated Parquet file', expected: 'parquet_unreadable', make: (valid, rng) => wholeFile(valid.subarray(0, Math.floor(valid.length * (0.2 + rng() * 0.6)))) },
  { name: 'Parquet file without its last 8 bytes', expected: 'parquet_unreadable', make: (valid) => wholeFile(valid.subarray(0, valid.length - 8)) },
  { name: 'random bytes named .parquet', expected: 'parquet_unreadable', make: (_v, rng) => wholeFile(Uint8Array.from({ length: 3000 }, () => Math.floor(rng() * 256))) },
  { name: 'empty .parquet file', expected: 'parquet_unreadable', make: () => wholeFile(new Uint8Array(0)) },
  { name: 'magic numbers only', expected: 'parquet_unreadable', make: () => wholeFile(Buffer.from('PAR1PAR1')) },
  { name: 'JSON Lines named .parquet', expected: 'parquet_unreadable', make: (_v, rng) => wholeFile(Buffer.concat([json(baseEvent(1, rng)), Buffer.from('\n')])) },
  {
    name: 'footer length pointing past the start',
    expected: 'parquet_unreadable',
    make: (valid) => {
      const bytes = Uint8Array.from(valid);
      new DataView(bytes.buffer).setUint32(bytes.length - 8, 0x7fffffff, true);
      return wholeFile(bytes);
    },
  },
  { name: 'Parquet without the event columns', expected: 'parquet_schema', make: () => wholeFile(foreignParquet({ a: Int32Array.from([1, 2, 3]), b: ['x', 'y', 'z'] })) },
  {
    name: 'Parquet with integer event ids',
    expected: 'parquet_schema',
    make: () =>
      wholeFile(foreignParquet({ event_id: Int32Array.from([1, 2]), event_ts: ['2026-01-10T10:00:00Z', 'x'], session_id: ['s', 's'], document_id: Int32Array.from([1, 2]), title: ['t', 't'], clinical_area: ['a', 'a'] })),
  },
  {
    name: 'a corrupt row group',
    expected: 'parquet_unreadable',
    make: async (valid) => {
      const bytes = Uint8Array.from(valid);
      const at = await rowGroupStart(valid, 1);
      // The middle group's first page header becomes bytes no Thrift decoder accepts.
      bytes.fill(0xff, at, at + 24);
      return { bytes, deadAt: [PARQUET_GROUP_ROWS], validRows: PARQUET_ROWS - PARQUET_GROUP_ROWS };
    },
  },
];

/** The valid file every Parquet class breaks: PARQUET_ROWS plain events in groups of PARQUET_GROUP_ROWS. */
export function validParquetRows(firstId: number): ArchiveRow[] {
  return Array.from({ length: PARQUET_ROWS }, (_, i) => ({ ...archiveRow(firstId + i), offset: String(i) }));
}
