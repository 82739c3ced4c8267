// Parquet decoding on a second thread. The batch recomputes are single-threaded JavaScript, and
// a fifth to a quarter of their time went to reading Parquet (parquet-wasm's decoding, then a
// string per title and area) while the second core idled. Here a worker thread
// (parquet-read-worker.ts) runs that part: the main thread sends it an object's bytes, it
// answers with each row group as an Arrow IPC stream plus its titles and areas
// dictionary-encoded, and the main thread only wraps those bytes as Arrow columns (no copy) and
// decodes the batches it hands on. The worker runs GROUPS_AHEAD groups ahead, so it decodes
// group g + 1 while the consumer computes on group g.
import { Worker } from 'node:worker_threads';
import { ParquetSchemaError } from './parquet-events.ts';
import type { GroupDictionaries } from './parquet-events.ts';

/** Decoded groups the worker may hold beyond the one being consumed (each ~15 MB at 100k rows). */
const GROUPS_AHEAD = 1;

export type ToReadThread =
  | { readonly type: 'object'; readonly body: Uint8Array }
  | { readonly type: 'credit'; readonly groups: number };

export type FromReadThread =
  | {
      readonly type: 'group';
      readonly ipc: Uint8Array;
      readonly dictionaries: GroupDictionaries;
      readonly group: number;
      /** Index in the file of the group's first row. */
      readonly groupStart: number;
      readonly rows: number;
    }
  | { readonly type: 'objectEnd' }
  | { readonly type: 'error'; readonly name: string; readonly message: string };

export type DecodedGroup = Extract<FromReadThread, { type: 'group' }>;

export class ParquetReadThread {
  private readonly worker: Worker;
  private readonly inbox: FromReadThread[] = [];
  private waiting: { resolve: (m: FromReadThread) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor() {
    // A small young generation: the worker's own objects are few and short-lived (its bulk is
    // ArrayBuffers), and V8 would otherwise size it from the machine's memory.
    this.worker = new Worker(new URL('./parquet-read-worker.ts', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker.on('message', (message: FromReadThread) => this.deliver(message));
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the Parquet read thread exited (code ${code})`)));
    // The first group plus the ones ahead of it; every group taken returns one credit.
    this.send({ type: 'credit', groups: 1 + GROUPS_AHEAD });
  }

  /**
   * Queues an object's Parquet bytes for decoding (the event columns, not kafka_partition /
   * kafka_offset, which the batch steps do not read); the bytes are moved to the worker.
   */
  enqueue(body: Uint8Array): void {
    // A view on a larger buffer cannot be moved alone: copy it to one of its own first.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
    this.send({ type: 'object', body: own }, [own.buffer as ArrayBuffer]);
  }

  /**
   * The next decoded group of the objects queued (in order), or null at the end of the current
   * object. Rejects with the worker's error (ParquetSchemaError kept as such).
   */
  async next(): Promise<DecodedGroup | null> {
    const message = await this.receive();
    if (message.type === 'objectEnd') return null;
    if (message.type === 'error') {
      throw message.name === 'ParquetSchemaError' ? new ParquetSchemaError(message.message) : new Error(message.message);
    }
    this.send({ type: 'credit', groups: 1 });
    return message;
  }

  /** Stops the worker; pending and later calls reject. */
  async close(): Promise<void> {
    this.fail(new Error('the Parquet read thread was closed'));
    await this.worker.terminate();
  }

  private send(message: ToReadThread, transfer: ArrayBuffer[] = []): void {
    if (this.failure === null) this.worker.postMessage(message, transfer);
  }

  private receive(): Promise<FromReadThread> {
    const message = this.inbox.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private deliver(message: FromReadThread): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting === null) this.inbox.push(message);
    else waiting.resolve(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(this.failure);
  }
}
