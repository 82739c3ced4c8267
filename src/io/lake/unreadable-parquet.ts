// A part of a Parquet input that cannot be read, as the one message that stands for it: the
// replay dead-letters it (parquet_unreadable, or parquet_schema when the file is readable but not
// in the archive's schema) and goes on, instead of failing on the first broken file of a lake.
import { DEFAULT_DEAD_LETTER_MAX_BYTES, UnreadableInput } from '../../marts/types.ts';
import { ParquetSchemaError } from './parquet-events.ts';
import type { RowGroupRead } from './parquet-events.ts';

const MAX_ERROR_CHARS = 300;

/**
 * `name` names the file or lake object; `head` is the input's first bytes (kept as the dead
 * letter's raw prefix when the whole file is unreadable) and `size` its full size in bytes.
 */
export function unreadableParquet(name: string, failure: Extract<RowGroupRead, { ok: false }>, head: Uint8Array, size: number): UnreadableInput {
  const reason = failure.error instanceof ParquetSchemaError ? 'parquet_schema' : 'parquet_unreadable';
  const last = failure.rows === null ? null : failure.firstRow + failure.rows - 1;
  const what =
    failure.part === 'file'
      ? 'not a readable Parquet file of events'
      : failure.part === 'rest'
        ? `rows ${failure.firstRow}…${last} (row group ${failure.rowGroup} to the end) cannot be read`
        : `row group ${failure.rowGroup} (rows ${failure.firstRow}…${last}) cannot be read`;
  const error = failure.error.message.replace(/\s+/g, ' ');
  const detail = `${name}: ${what}: ${error.length <= MAX_ERROR_CHARS ? error : `${error.slice(0, MAX_ERROR_CHARS)}…`}`;
  // Only a whole unreadable file has raw bytes worth keeping: its first ones (the magic number, or what is there instead).
  const prefix = failure.part === 'file' ? head.subarray(0, DEFAULT_DEAD_LETTER_MAX_BYTES) : new Uint8Array(0);
  return new UnreadableInput(prefix, failure.part === 'file' ? size : 0, reason, detail);
}
