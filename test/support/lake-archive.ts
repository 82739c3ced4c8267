// Writes events into a lake the way the archive writer lays them out (curated/event_date=D/
// <topic>-p<partition>-o<first>-o<last>.parquet, Parquet by the archive codec), for tests of the
// cold path: events are spread over partitions by session_id and cut into several objects.
import type { Lake } from '../../src/io/lake/lake.ts';
import { datePrefix } from '../../src/io/lake/lake-day-reader.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import type { ArchiveRow } from '../../src/io/lake/parquet-events.ts';
import { localDate } from '../../src/marts/time-zone.ts';
import type { ClickEvent } from '../../src/marts/types.ts';

export interface ArchiveLayout {
  readonly partitions?: number;
  /** Events per object (per partition and date). */
  readonly objectSize?: number;
  readonly rowGroupSize?: number;
  readonly topic?: string;
}

function partitionOf(sessionId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < sessionId.length; i++) h = (h * 31 + sessionId.charCodeAt(i)) >>> 0;
  return h % partitions;
}

/** Archives events in the given (arrival) order; returns the keys written. */
export async function writeArchive(lake: Lake, events: readonly ClickEvent[], timeZone: string, layout: ArchiveLayout = {}): Promise<string[]> {
  const partitions = layout.partitions ?? 3;
  const objectSize = layout.objectSize ?? 700;
  const topic = layout.topic ?? 'curated.events';
  // Offsets per partition in arrival order, as Kafka would assign them.
  const next = new Array<number>(partitions).fill(0);
  const groups = new Map<string, ArchiveRow[]>();
  for (const event of events) {
    const partition = partitionOf(event.sessionId, partitions);
    const row: ArchiveRow = { ...event, partition, offset: String(next[partition]!++) };
    const key = `${localDate(event.eventTs, timeZone)}|${partition}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(row);
  }
  const keys: string[] = [];
  for (const [group, rows] of groups) {
    const [date, partition] = group.split('|') as [string, string];
    for (let i = 0; i < rows.length; i += objectSize) {
      const chunk = rows.slice(i, i + objectSize);
      const key = `${datePrefix(date)}${topic}-p${partition}-o${chunk[0]!.offset}-o${chunk[chunk.length - 1]!.offset}.parquet`;
      await lake.put(key, encodeEventsToParquet(chunk, { rowGroupSize: layout.rowGroupSize ?? 250 }));
      keys.push(key);
    }
  }
  return keys;
}
