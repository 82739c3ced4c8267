// A bounded source over one Parquet file of curated events: one raw message per row, its value
// the decoded record (SPEC §2 field names), offset = the row's file-wide index (0-based), one
// partition. Like the JSON Lines source, a replay resumes right after the last committed row.
// The file is read row group by row group through a file-backed Blob, so memory is bounded by
// the row-group size, not the file size; row groups wholly before the start offset are skipped
// without being decoded.
import { openAsBlob } from 'node:fs';
import type { RawMessage } from '../../marts/types.ts';
import { readParquetRowGroups, toRecords } from '../lake/parquet-events.ts';
import type { ParquetEventBatch, ParquetEventRecord } from '../lake/parquet-events.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import { EXIT_DATA_ERROR, InputFileError, checkInputFile } from './input-file.ts';
import { fileSourceName } from './json-lines-source.ts';

export function createParquetFileSource(path: string, clock: () => number = Date.now): MessageSource {
  const source = fileSourceName(path);
  let batches: AsyncGenerator<ParquetEventBatch> | null = null;
  let current: ParquetEventBatch | null = null;
  /** Next row of `current` to hand out. */
  let cursor = 0;
  let announced = false;
  let done = false;

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
      let blob: Blob;
      try {
        blob = await openAsBlob(path);
      } catch (error) {
        // openAsBlob's own message does not name the file.
        throw new Error(`${source}: cannot open: ${(error as Error).message}`, { cause: error });
      }
      batches = readParquetRowGroups(blob, { startRow });
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (batches === null) throw new Error('parquet source polled before start()');
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      if (done) return { kind: 'end' };
      while (current === null || cursor >= current.numRows) {
        let next: IteratorResult<ParquetEventBatch>;
        try {
          next = await batches.next();
        } catch (error) {
          // parquet-wasm's messages ("Invalid Parquet file. Corrupt footer") do not name the file.
          throw new InputFileError(`${path}: not a readable Parquet file of events: ${(error as Error).message}`, EXIT_DATA_ERROR, { cause: error });
        }
        if (next.done === true) {
          done = true;
          current = null;
          return { kind: 'end' };
        }
        current = next.value;
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
      await batches?.return(undefined);
      current = null;
    },
  };
}
