// Names of the curated archive's objects (SPEC §1, §7): the event date in MART_TIMEZONE as a Hive
// partition folder, then (source, partition, first offset, last offset) with zero-padded numbers
// so that names sort by partition and offset, and one offset range always gets one name.
export const CURATED_PREFIX = 'curated/';

/** 20 digits: any int64 offset (at most 19 digits) fits, as in the documented example names. */
const OFFSET_DIGITS = 20;
const PARTITION_DIGITS = 4;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const OFFSET_PATTERN = /^(0|[1-9][0-9]{0,18})$/;
const NAME_PATTERN = /^curated\/event_date=(\d{4}-\d{2}-\d{2})\/(.+)-p(\d{4,})-o(\d{20})-o(\d{20})\.parquet$/;

export interface ArchiveObjectName {
  /** Local date 'YYYY-MM-DD' of the events in the object. */
  readonly eventDate: string;
  /** Topic (Kafka) or another source's name, made safe for a key (see sourceKeyName). */
  readonly sourceName: string;
  readonly partition: number;
  /** The flushed range of the partition, inclusive, as decimal strings. */
  readonly firstOffset: string;
  readonly lastOffset: string;
}

/** The folder of one event date, e.g. 'curated/event_date=2026-03-08/'. */
export function eventDatePrefix(eventDate: string): string {
  if (!DATE_PATTERN.test(eventDate)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(eventDate)}`);
  return `${CURATED_PREFIX}event_date=${eventDate}/`;
}

export function archiveObjectKey(name: ArchiveObjectName): string {
  const { partition, firstOffset, lastOffset } = name;
  if (!Number.isSafeInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition}`);
  for (const offset of [firstOffset, lastOffset]) {
    if (!OFFSET_PATTERN.test(offset)) throw new RangeError(`invalid offset ${JSON.stringify(offset)}`);
  }
  if (BigInt(firstOffset) > BigInt(lastOffset)) throw new RangeError(`offset range ${firstOffset}..${lastOffset} is empty`);
  if (name.sourceName === '' || name.sourceName.includes('/')) throw new RangeError(`invalid source name ${JSON.stringify(name.sourceName)}`);
  return (
    `${eventDatePrefix(name.eventDate)}${name.sourceName}-p${String(partition).padStart(PARTITION_DIGITS, '0')}` +
    `-o${firstOffset.padStart(OFFSET_DIGITS, '0')}-o${lastOffset.padStart(OFFSET_DIGITS, '0')}.parquet`
  );
}

/** The parts of an archive object key, or null for a key that is not one. */
export function parseArchiveObjectKey(key: string): ArchiveObjectName | null {
  const match = NAME_PATTERN.exec(key);
  if (match === null) return null;
  const strip = (digits: string): string => digits.replace(/^0+(?=\d)/, '');
  return {
    eventDate: match[1] as string,
    sourceName: match[2] as string,
    partition: Number(match[3]),
    firstOffset: strip(match[4] as string),
    lastOffset: strip(match[5] as string),
  };
}

/**
 * The name a source goes by in object keys: the topic for Kafka ('kafka:curated.events' →
 * 'curated.events'), otherwise the source name with every character outside [A-Za-z0-9._-]
 * replaced by '_' (a file source's absolute path must not become folders).
 */
export function sourceKeyName(source: string): string {
  const name = source.startsWith('kafka:') ? source.slice('kafka:'.length) : source;
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' ? '_' : safe;
}
