// Reads the curated archive back for assertions: every object under curated/, decoded row by
// row with its Kafka provenance, and the checks every archive test makes on it.
import { expect } from 'vitest';
import { parseArchiveObjectKey, CURATED_PREFIX } from '../../src/io/archive/archive-object-key.ts';
import type { ArchiveObjectName } from '../../src/io/archive/archive-object-key.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import { readParquetRowGroups, toClickEvents } from '../../src/io/lake/parquet-events.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { localDate } from '../../src/marts/time-zone.ts';
import type { ClickEvent } from '../../src/marts/types.ts';

export type ArchivedRow = ClickEvent & { readonly partition: number; readonly offset: string };

export interface ArchivedObject {
  readonly key: string;
  readonly name: ArchiveObjectName;
  readonly rows: ArchivedRow[];
}

export async function readArchive(lake: Lake): Promise<ArchivedObject[]> {
  const objects: ArchivedObject[] = [];
  for (const { key } of await lake.list(CURATED_PREFIX)) {
    const name = parseArchiveObjectKey(key);
    if (name === null) throw new Error(`unexpected object in the archive: ${key}`);
    const body = await lake.get(key);
    if (body === null) throw new Error(`listed object vanished: ${key}`);
    const rows: ArchivedRow[] = [];
    for await (const batch of readParquetRowGroups(body)) {
      const events = toClickEvents(batch);
      for (let i = 0; i < events.length; i++) {
        const partition = batch.partitions?.[i];
        const offset = batch.offsets?.[i];
        if (partition == null || offset == null) throw new Error(`${key}: row ${i} has no provenance`);
        rows.push({ ...events[i]!, partition, offset });
      }
    }
    objects.push({ key, name, rows });
  }
  return objects;
}

/** Stable text of an event, for comparing multisets of events. */
export function eventText(e: ClickEvent): string {
  return JSON.stringify([e.eventId, e.eventTs, e.sessionId, e.documentId, e.title, e.clinicalArea]);
}

/** The events of the lines the contract accepts (what the archive must hold), as sorted texts. */
export function validEventTexts(lines: readonly string[], maxFutureSkewMs: number): string[] {
  const nowMs = Date.now();
  const texts: string[] = [];
  for (const line of lines) {
    const outcome = parseRawMessage(line, { nowMs, maxFutureSkewMs });
    if (outcome.ok) texts.push(eventText(outcome.event));
  }
  return texts.sort();
}

/**
 * The invariants of a well-formed archive: each (partition, offset) at most once; every row in
 * the folder of its event date in timeZone and inside its object's partition and offset range;
 * distinct offset ranges of one partition never overlap. Returns every row.
 */
export function expectWellFormedArchive(objects: readonly ArchivedObject[], timeZone: string): ArchivedRow[] {
  const rows: ArchivedRow[] = [];
  const seen = new Set<string>();
  const ranges = new Map<number, Map<string, [bigint, bigint]>>();
  for (const object of objects) {
    const { name } = object;
    const first = BigInt(name.firstOffset);
    const last = BigInt(name.lastOffset);
    let byPartition = ranges.get(name.partition);
    if (byPartition === undefined) ranges.set(name.partition, (byPartition = new Map()));
    byPartition.set(`${first}-${last}`, [first, last]);
    expect(object.rows.length, object.key).toBeGreaterThan(0);
    for (const row of object.rows) {
      const position = `${row.partition}:${row.offset}`;
      if (seen.has(position)) throw new Error(`offset ${position} is archived twice (again in ${object.key})`);
      seen.add(position);
      if (row.partition !== name.partition || BigInt(row.offset) < first || BigInt(row.offset) > last) {
        throw new Error(`${object.key} holds ${position}, outside its range`);
      }
      if (localDate(row.eventTs, timeZone) !== name.eventDate) throw new Error(`${object.key} holds an event of ${localDate(row.eventTs, timeZone)}`);
      rows.push(row);
    }
  }
  for (const [partition, byRange] of ranges) {
    const sorted = [...byRange.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![0] <= sorted[i - 1]![1]) {
        throw new Error(`partition ${partition}: ranges ${sorted[i - 1]!.join('-')} and ${sorted[i]!.join('-')} overlap`);
      }
    }
  }
  return rows;
}
