// Reads the curated archive of whole event_dates back from the lake (SPEC §5, §6): every object
// under curated/event_date=D/, one Parquet row group at a time, so memory holds one object's
// bytes and one row group, decoded a slice at a time — never a day's rows. Deduplication by event_id is left to the
// consumer (the batch cores keep the first occurrence), so that it happens once, in one place.
import type { Lake, LakeObject } from './lake.ts';
import { ParquetSchemaError, decodeSlices, rowGroupTable } from './parquet-events.ts';
import { ParquetReadThread } from './parquet-read-thread.ts';
import type { ParquetEventBatch } from './parquet-events.ts';

export const ARCHIVE_ROOT = 'curated/';

/**
 * Rows per yielded batch: small enough that a batch's strings and ClickEvents die in V8's young
 * generation (a whole 100k-row group's were promoted and then dominated the cold step's peak
 * RSS as old-generation garbage), large enough that the per-batch overhead stays negligible.
 */
export const ARCHIVE_BATCH_ROWS = 8192;

/** The lake prefix holding the archive of one event_date. */
export function datePrefix(date: string): string {
  return `${ARCHIVE_ROOT}event_date=${date}/`;
}

const OBJECT_NAME = /^(.*)-p(\d+)-o(\d+)-o(\d+)\.parquet$/;

/**
 * Archive order: per topic and partition by first offset (numerically: names are not padded, and
 * 'o10' sorts before 'o9' as text), so that "first occurrence" means lowest offset, as in the
 * stream. Names that do not follow the writer's pattern come after, in key order.
 */
export function archiveOrder(objects: readonly LakeObject[]): LakeObject[] {
  const parsed = objects.map((o) => {
    const match = OBJECT_NAME.exec(o.key.slice(o.key.lastIndexOf('/') + 1));
    return { o, topic: match?.[1] ?? null, partition: Number(match?.[2] ?? -1), first: BigInt(match?.[3] ?? -1) };
  });
  parsed.sort((a, b) => {
    if (a.topic === null || b.topic === null) return a.topic === b.topic ? cmp(a.o.key, b.o.key) : a.topic === null ? 1 : -1;
    return cmp(a.topic, b.topic) || a.partition - b.partition || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0) || cmp(a.o.key, b.o.key);
  });
  return parsed.map((p) => p.o);
}

/**
 * The messages an archive's objects hold by their names (offsets first … last): an upper bound
 * of their rows, known before reading a byte. Objects named otherwise count 0.
 */
export function namedMessageCount(objects: readonly LakeObject[]): number {
  let count = 0;
  for (const o of objects) {
    const match = OBJECT_NAME.exec(o.key.slice(o.key.lastIndexOf('/') + 1));
    if (match !== null) count += Number(BigInt(match[4] as string) - BigInt(match[3] as string)) + 1;
  }
  return count;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface LakeReadStats {
  objects: number;
  bytes: number;
  rowGroups: number;
  rows: number;
}

/** Only .parquet objects: a writer's temporary or marker files are not part of the archive. */
export async function listArchiveObjects(lake: Lake, date: string): Promise<LakeObject[]> {
  return archiveOrder((await lake.list(datePrefix(date))).filter((o) => o.key.endsWith('.parquet')));
}

/** The event_dates that have objects in the archive, ascending. */
export async function listArchiveDates(lake: Lake): Promise<string[]> {
  const dates = new Set<string>();
  for (const object of await lake.list(`${ARCHIVE_ROOT}event_date=`)) {
    const match = /^curated\/event_date=(\d{4}-\d{2}-\d{2})\//.exec(object.key);
    if (match?.[1] !== undefined && object.key.endsWith('.parquet')) dates.add(match[1]);
  }
  return [...dates].sort();
}

/**
 * Yields the rows of the given dates, in date order then archive order, as the Parquet reader
 * decodes them: columns (no ClickEvent per row), batches of at most ARCHIVE_BATCH_ROWS rows,
 * duplicates included. Files tidemark did not write may hold nulls in required columns: see
 * ParquetEventBatch.missing. `stats` is updated as it goes. Stopping the loop early (break,
 * throw) releases the current reader.
 */
export async function* readArchiveBatches(lake: Lake, dates: readonly string[], stats?: LakeReadStats): AsyncGenerator<ParquetEventBatch> {
  for (const date of dates) yield* readArchiveObjects(lake, await listArchiveObjects(lake, date), stats);
}

/**
 * readArchiveBatches for objects already listed (listArchiveObjects), in the order given. The
 * Parquet decoding runs on a worker thread (ParquetReadThread) while the caller computes.
 */
export async function* readArchiveObjects(lake: Lake, objects: readonly LakeObject[], stats?: LakeReadStats): AsyncGenerator<ParquetEventBatch> {
  const thread = new ParquetReadThread();
  // The worker is kept one object ahead: it gets object i + 1's bytes as soon as they arrive,
  // while its groups of object i are still being consumed, so it never waits at a boundary.
  // Fetching stays here (network I/O, not CPU), one object ahead of the worker.
  let sent = 0;
  const sendNext = async (): Promise<void> => {
    if (sent >= objects.length) return;
    const object = objects[sent++] as LakeObject;
    // Listed then gone: an object replaced between list and get has a new name only when its
    // offset range changed, which the writer never does; a missing one is a broken archive.
    const body = await lake.get(object.key);
    if (body === null) throw new Error(`archive object ${object.key} disappeared while it was being read`);
    if (stats !== undefined) {
      stats.objects++;
      stats.bytes += body.byteLength;
    }
    thread.enqueue(body);
  };
  try {
    await sendNext();
    for (let i = 0; i < objects.length; i++) {
      const ahead = sendNext();
      ahead.catch(() => undefined); // awaited below; the loop may stop before it gets there
      const key = (objects[i] as LakeObject).key;
      for (let decoded = await nextGroup(thread, key); decoded !== null; decoded = await nextGroup(thread, key)) {
        if (stats !== undefined) {
          stats.rowGroups++;
          stats.rows += decoded.rows;
        }
        const table = rowGroupTable(decoded.ipc, decoded.group, decoded.rows);
        yield* decodeSlices(table, decoded.group, decoded.groupStart, 0, ARCHIVE_BATCH_ROWS, decoded.dictionaries);
      }
      await ahead;
    }
  } finally {
    await thread.close();
  }
}

/**
 * The thread's next group of the object `key`. A decoding failure that is not about the schema
 * (a corrupt page traps parquet-wasm, which ends the thread with just "unreachable") is named
 * after the object, so that the failed step says which one to look at.
 */
async function nextGroup(thread: ParquetReadThread, key: string): ReturnType<ParquetReadThread['next']> {
  try {
    return await thread.next();
  } catch (error) {
    if (error instanceof ParquetSchemaError) throw error;
    throw new Error(`archive object ${key} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

export function emptyReadStats(): LakeReadStats {
  return { objects: 0, bytes: 0, rowGroups: 0, rows: 0 };
}
