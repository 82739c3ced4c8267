// The worker-thread side of parquet-read-thread.ts: decodes the Parquet objects it is sent, row
// group by row group, with parquet-wasm, and posts each group back as an Arrow IPC stream plus
// its text columns dictionary-encoded, all as transferred (moved, not copied) buffers. It runs
// at most `credit` groups ahead of the main thread, so memory holds a bounded number of decoded
// groups whatever the object sizes.
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { encodeGroupDictionaries, openParquetFile, readRowGroupIpc, rowGroupTable } from './parquet-events.ts';
import type { OpenedParquet } from './parquet-events.ts';
import type { FromReadThread, ToReadThread } from './parquet-read-thread.ts';
import type { TextDictionary } from './text-dictionary.ts';

interface OpenObject {
  readonly opened: OpenedParquet;
  group: number;
  groupStart: number;
}

function serve(port: MessagePort): void {
  const queued: Uint8Array[] = [];
  let credit = 0;
  let current: OpenObject | null = null;
  let pumping = false;
  let failed = false;

  const post = (message: FromReadThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  // One loop at a time: a message arriving while a group is decoded only updates the state.
  const pump = async (): Promise<void> => {
    if (pumping || failed) return;
    pumping = true;
    try {
      while (credit > 0 && (current !== null || queued.length > 0)) {
        if (current === null) {
          const body = queued.shift() as Uint8Array;
          current = { opened: await openParquetFile(body, false), group: 0, groupStart: 0 };
        }
        const { opened } = current;
        if (current.group >= opened.groupRows.length) {
          opened.parquet.free();
          current = null;
          post({ type: 'objectEnd' });
          continue;
        }
        const group = current.group++;
        const rows = opened.groupRows[group] as number;
        const groupStart = current.groupStart;
        current.groupStart += rows;
        if (rows === 0) continue;
        const ipc = await readRowGroupIpc(opened, group);
        const dictionaries = encodeGroupDictionaries(rowGroupTable(ipc, group, rows));
        credit--;
        const moved = [ipc, ...Object.values(dictionaries).flatMap((d: TextDictionary) => [d.codes, d.bytes, d.offsets])];
        post({ type: 'group', ipc, dictionaries, group, groupStart, rows }, moved.map((a) => a.buffer as ArrayBuffer));
      }
    } catch (error) {
      failed = true;
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      post({ type: 'error', name, message });
    } finally {
      pumping = false;
    }
  };

  port.on('message', (message: ToReadThread) => {
    if (message.type === 'object') queued.push(message.body);
    else credit += message.groups;
    void pump();
  });
}

if (parentPort !== null) serve(parentPort);
