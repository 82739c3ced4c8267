// Dictionary encoding of a row group's text column, by bytes. A day's titles and clinical areas
// repeat heavily (thousands of distinct titles, a dozen areas, over millions of events), yet
// decoding them made one fresh JavaScript string per row: ~2.3 s of a 10M-event day on the
// thread that also computes the marts, and 20M short-lived strings for its collector. The
// Parquet read thread encodes them instead: each distinct value once, plus a code per row.
// The main thread then decodes only the distinct values and hands every row the same string
// object (whose hash V8 caches, so the consumers' map lookups get cheaper too).

/** Codes per row (−1 for null) and the distinct values, value c being bytes[offsets[c] … offsets[c + 1]). */
export interface TextDictionary {
  readonly codes: Int32Array;
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
}

/**
 * Encodes `rows` values of a plain UTF-8 column: value i is bytes[offsets[i] … offsets[i + 1]),
 * null where `isNull(i)`. Values are equal exactly when their bytes are.
 */
export function encodeTextDictionary(
  bytes: Uint8Array,
  offsets: Int32Array,
  rows: number,
  isNull: ((row: number) => boolean) | null,
): TextDictionary {
  let capacity = 16;
  while (capacity < rows * 2) capacity *= 2;
  const mask = capacity - 1;
  /** Per slot: code + 1 of the value stored there, 0 when empty. */
  const slots = new Int32Array(capacity);
  const codes = new Int32Array(rows);
  /** Per code: the row of its first occurrence, where its bytes are. */
  const firstRows: number[] = [];
  let distinctBytes = 0;
  for (let row = 0; row < rows; row++) {
    if (isNull?.(row) === true) {
      codes[row] = -1;
      continue;
    }
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    for (let slot = hashBytes(bytes, start, end) & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[slot] as number;
      if (stored === 0) {
        slots[slot] = firstRows.length + 1;
        codes[row] = firstRows.length;
        firstRows.push(row);
        distinctBytes += end - start;
        break;
      }
      const first = firstRows[stored - 1] as number;
      if (sameBytes(bytes, start, end, offsets[first] as number, offsets[first + 1] as number)) {
        codes[row] = stored - 1;
        break;
      }
    }
  }
  const values = new Uint8Array(distinctBytes);
  const valueOffsets = new Int32Array(firstRows.length + 1);
  let at = 0;
  for (const [code, row] of firstRows.entries()) {
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    values.set(bytes.subarray(start, end), at);
    at += end - start;
    valueOffsets[code + 1] = at;
  }
  return { codes, bytes: values, offsets: valueOffsets };
}

/** FNV-1a over the bytes: short values (titles, area names) need no better spread. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

function sameBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
