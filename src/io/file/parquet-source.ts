// A bounded source over one Parquet file of curated events: one raw message per row, its value
// the decoded record (SPEC §2 field names), offset = the row's file-wide index (0-based), one
// partition. Like the JSON Lines source, a replay resumes right after the last committed row.
// The file is read into memory once and decoded row group by row group (row groups wholly
// before the start offset are skipped without being decoded): parquet-wasm's synchronous reader,
// the one that reports a corrupt row group as an error rather than trapping, needs the bytes.
// What cannot be read is one message in place of what it held (see unreadable-parquet.ts): the
// whole file (not Parquet, truncated, not the archive's schema) at offset 0, or one corrupt row
// group at the offset of its first row, after which reading goes on with the next group.
import { readFile } from 'node:fs/promises';
import type { RawMessage } from '../../marts/types.ts';
import { readParquetRowGroupsTolerantly, toRecords } from '../lake/parquet-events.ts';
import type { ParquetEventBatch, ParquetEventRecord, RowGroupRead } from '../lake/parquet-events.ts';
import { unreadableParquet } from '../lake/unreadable-parquet.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { checkInputFile } from './input-file.ts';
import { fileSourceName } from './json-lines-source.ts';

export interface ParquetFileSourceOptions {
  /** Told the detail of every part of the file that cannot be read (it is dead-lettered). */
  readonly onUnreadable?: (detail: string) => void;
}

export function createParquetFileSource(path: string, clock: () => number = Date.now, options: ParquetFileSourceOptions = {}): MessageSource {
  const source = fileSourceName(path);
  let reads: AsyncGenerator<RowGroupRead> | null = null;
  let bytes: Uint8Array | null = null;
  let current: ParquetEventBatch | null = null;
  /** Next row of `current` to hand out. */
  let cursor = 0;
  let announced = false;
  let done = false;

  const unreadable = async (failure: Extract<RowGroupRead, { ok: false }>): Promise<RawMessage> => {
    const value = unreadableParquet(path, failure, bytes ?? new Uint8Array(0), bytes?.byteLength ?? 0);
    options.onUnreadable?.(value.detail);
    return { source, partition: 0, offset: String(failure.firstRow), value, receivedAt: clock() };
  };

  return {
    bounded: true,
    async start(hooks: SourceHooks): Promise<void> {
      const offsets = await hooks.offsetsFor(source, [0]);
      const stored = offsets.get(0) ?? null;
      const startRow = stored === null ? 0 : Number(stored);
      if (!Number.isSafeInteger(startRow) || startRow < 0) {
        throw new Error(`${source}: stored offset ${JSON.stringify(stored)} is not a row index`);
      }
      // Checked and opened here rather than on first poll so that a missing file fails start() with its path.
      await checkInputFile(path);
      try {
        bytes = await readFile(path);
      } catch (error) {
        // readFile's own message does not always name the file.
        throw new Error(`${source}: cannot read: ${(error as Error).message}`, { cause: error });
      }
      reads = readParquetRowGroupsTolerantly(bytes, { startRow });
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (reads === null) throw new Error('parquet source polled before start()');
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      if (done) return { kind: 'end' };
      while (current === null || cursor >= current.numRows) {
        const next = await reads.next();
        if (next.done === true) {
          done = true;
          current = null;
          return { kind: 'end' };
        }
        if (!next.value.ok) return { kind: 'messages', messages: [await unreadable(next.value)] };
        current = next.value.batch;
        cursor = 0;
      }
      // One poll never crosses a row group: the caller asks again, and the next group is
      // decoded only then, so at most one is held.
      const to = Math.min(current.numRows, cursor + Math.max(1, maxMessages));
      const records = toRecords(current, cursor, to);
      const receivedAt = clock();
      const messages: RawMessage[] = new Array<RawMessage>(records.length);
      for (let i = 0; i < records.length; i++) {
        const offset = current.firstRow + cursor + i;
        messages[i] = { source, partition: 0, offset: String(offset), value: records[i] as ParquetEventRecord, receivedAt };
      }
      cursor = to;
      return { kind: 'messages', messages };
    },
    async close(): Promise<void> {
      // Ends the generator, whose finally block frees the WebAssembly reader.
      await reads?.return(undefined);
      current = null;
      bytes = null;
    },
  };
}
