// A bounded source over every Parquet object under a lake prefix (`tidemark replay s3://…`):
// the curated archive read back in event-time order, so a replay classifies lateness as a
// consumer aligned on event time would. Date folders are read one after the other; inside a
// folder, each Kafka partition's objects are read in offset order (their names sort so) and the
// partitions are merged by event_ts (ties: the lower partition), holding one row group per
// partition. Objects whose names are not archive names count as partitions of their own.
//
// One partition (0) whose offsets count the rows delivered, so a replay resumes after the last
// committed row — as long as the prefix holds the same objects as in the run it resumes.
// An object (or a row group of one) that cannot be read counts as one message standing for it
// (see unreadable-parquet.ts): it is dead-lettered, and the replay goes on with the rest.
import type { RawMessage } from '../../marts/types.ts';
import { parseArchiveObjectKey } from '../archive/archive-object-key.ts';
import type { MessageSource, SourceHooks, SourcePoll } from '../source.ts';
import type { Lake } from './lake.ts';
import { readParquetRowGroupsTolerantly, toRecords } from './parquet-events.ts';
import { unreadableParquet } from './unreadable-parquet.ts';

export interface LakePrefixSourceOptions {
  /** Close the lake when the source is closed (the source was given the only handle). */
  readonly ownsLake?: boolean;
  readonly clock?: () => number;
  /** Told the detail of every object or row group that cannot be read (it is dead-lettered). */
  readonly onUnreadable?: (detail: string) => void;
}

interface Row {
  readonly ts: number;
  readonly record: RawMessage['value'];
}

/** The objects under prefix as folders of merged streams, in key order. */
function plan(keys: readonly string[]): string[][][] {
  const folders = new Map<string, Map<string, string[]>>();
  for (const key of keys) {
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    const name = parseArchiveObjectKey(key);
    const stream = name === null ? `key:${key}` : `partition:${name.sourceName}:${name.partition}`;
    let streams = folders.get(folder);
    if (streams === undefined) folders.set(folder, (streams = new Map()));
    streams.set(stream, [...(streams.get(stream) ?? []), key]);
  }
  // Keys come sorted, so folders and the objects of each stream are in key order already.
  return [...folders.values()].map((streams) => [...streams.values()]);
}

async function* objectRows(lake: Lake, key: string, onUnreadable: ((detail: string) => void) | undefined): AsyncGenerator<Row> {
  const body = await lake.get(key);
  if (body === null) throw new Error(`lake object ${key} disappeared during the replay`);
  for await (const read of readParquetRowGroupsTolerantly(body)) {
    if (!read.ok) {
      const value = unreadableParquet(`${lake.url.replace(/\/?$/, '/')}${key}`, read, body, body.byteLength);
      onUnreadable?.(value.detail);
      // First in the merge: it holds no event time.
      yield { ts: Number.NEGATIVE_INFINITY, record: value };
      continue;
    }
    const batch = read.batch;
    const records = toRecords(batch);
    for (let i = 0; i < records.length; i++) {
      // A null event_ts (a foreign file) goes first; the contract dead-letters it anyway.
      const ts = batch.eventTs[i] as number;
      yield { ts: Number.isNaN(ts) ? Number.NEGATIVE_INFINITY : ts, record: records[i] as RawMessage['value'] };
    }
  }
}

async function* streamRows(lake: Lake, keys: readonly string[], onUnreadable: ((detail: string) => void) | undefined): AsyncGenerator<Row> {
  for (const key of keys) yield* objectRows(lake, key, onUnreadable);
}

async function* mergedRows(lake: Lake, folders: readonly (readonly string[])[][], onUnreadable: ((detail: string) => void) | undefined): AsyncGenerator<Row> {
  for (const streams of folders) {
    const iterators = streams.map((keys) => streamRows(lake, keys, onUnreadable));
    const heads = await Promise.all(iterators.map((it) => it.next()));
    try {
      for (;;) {
        let pick = -1;
        for (let i = 0; i < heads.length; i++) {
          const head = heads[i]!;
          if (head.done === true) continue;
          if (pick === -1 || head.value.ts < (heads[pick] as IteratorYieldResult<Row>).value.ts) pick = i;
        }
        if (pick === -1) break;
        yield (heads[pick] as IteratorYieldResult<Row>).value;
        heads[pick] = await iterators[pick]!.next();
      }
    } finally {
      await Promise.all(iterators.map((it) => it.return(undefined)));
    }
  }
}

export function createLakePrefixSource(lake: Lake, prefix: string, options: LakePrefixSourceOptions = {}): MessageSource {
  const source = `lake:${lake.url.replace(/\/?$/, '/')}${prefix}`;
  const clock = options.clock ?? Date.now;
  let rows: AsyncGenerator<Row> | null = null;
  let next = 0;
  let startAt = 0;
  let announced = false;
  let done = false;

  return {
    bounded: true,
    async start(hooks: SourceHooks): Promise<void> {
      const stored = (await hooks.offsetsFor(source, [0])).get(0) ?? null;
      startAt = stored === null ? 0 : Number(stored);
      if (!Number.isSafeInteger(startAt) || startAt < 0) throw new Error(`${source}: stored offset ${JSON.stringify(stored)} is not a row count`);
      const keys = (await lake.list(prefix)).map((o) => o.key).filter((key) => key.endsWith('.parquet'));
      rows = mergedRows(lake, plan(keys), options.onUnreadable);
    },
    async poll(maxMessages: number): Promise<SourcePoll> {
      if (rows === null) throw new Error('lake prefix source polled before start()');
      if (!announced) {
        announced = true;
        return { kind: 'assigned', source, partitions: [0] };
      }
      if (maxMessages < 1) return { kind: 'messages', messages: [] };
      if (done) return { kind: 'end' };
      const messages: RawMessage[] = [];
      const receivedAt = clock();
      while (messages.length < Math.max(1, maxMessages)) {
        const row = await rows.next();
        if (row.done === true) {
          done = true;
          break;
        }
        const offset = next++;
        // Rows before the stored offset were applied by an earlier run.
        if (offset >= startAt) messages.push({ source, partition: 0, offset: String(offset), value: row.value.record, receivedAt });
      }
      if (messages.length === 0 && done) return { kind: 'end' };
      return { kind: 'messages', messages };
    },
    async close(): Promise<void> {
      await rows?.return(undefined);
      if (options.ownsLake === true) await lake.close();
    },
  };
}
