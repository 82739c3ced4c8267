// Pure parts of the archive writer: object names and the flush policy.
import { describe, expect, it } from 'vitest';
import { archiveObjectKey, eventDatePrefix, parseArchiveObjectKey, sourceKeyName } from '../../src/io/archive/archive-object-key.ts';
import { flushReason, msUntilDue } from '../../src/io/archive/flush-policy.ts';

describe('archive object names', () => {
  it('zero-pads partition and offsets under the event_date folder', () => {
    expect(
      archiveObjectKey({ eventDate: '2026-11-23', sourceName: 'curated.events', partition: 3, firstOffset: '1000', lastOffset: '1999' }),
    ).toBe('curated/event_date=2026-11-23/curated.events-p0003-o00000000000000001000-o00000000000000001999.parquet');
  });

  it('holds the largest int64 offset and partitions beyond four digits', () => {
    expect(
      archiveObjectKey({ eventDate: '2026-03-08', sourceName: 't', partition: 12345, firstOffset: '0', lastOffset: '9223372036854775807' }),
    ).toBe('curated/event_date=2026-03-08/t-p12345-o00000000000000000000-o09223372036854775807.parquet');
  });

  it('sorts by partition, then offset, as text', () => {
    const key = (partition: number, first: string, last: string): string =>
      archiveObjectKey({ eventDate: '2026-03-08', sourceName: 't', partition, firstOffset: first, lastOffset: last });
    const keys = [key(1, '0', '9'), key(0, '100', '199'), key(0, '9', '99'), key(0, '1000', '1000')];
    expect([...keys].sort()).toEqual([key(0, '9', '99'), key(0, '100', '199'), key(0, '1000', '1000'), key(1, '0', '9')]);
  });

  it('parses back what it names, and nothing else', () => {
    const name = { eventDate: '2026-03-08', sourceName: 'curated.events', partition: 2, firstOffset: '0', lastOffset: '41' };
    expect(parseArchiveObjectKey(archiveObjectKey(name))).toEqual(name);
    expect(parseArchiveObjectKey('curated/event_date=2026-03-08/readme.txt')).toBeNull();
    expect(parseArchiveObjectKey('other/event_date=2026-03-08/t-p0000-o00000000000000000000-o00000000000000000001.parquet')).toBeNull();
  });

  it('refuses impossible names', () => {
    const ok = { eventDate: '2026-03-08', sourceName: 't', partition: 0, firstOffset: '5', lastOffset: '5' };
    expect(() => archiveObjectKey({ ...ok, firstOffset: '6' })).toThrow(/empty/);
    expect(() => archiveObjectKey({ ...ok, firstOffset: '-1' })).toThrow(/invalid offset/);
    expect(() => archiveObjectKey({ ...ok, firstOffset: '007' })).toThrow(/invalid offset/);
    expect(() => archiveObjectKey({ ...ok, partition: -1 })).toThrow(/invalid partition/);
    expect(() => archiveObjectKey({ ...ok, eventDate: '2026-3-8' })).toThrow(/YYYY-MM-DD/);
    expect(() => archiveObjectKey({ ...ok, sourceName: 'a/b' })).toThrow(/source name/);
    expect(() => eventDatePrefix('')).toThrow(/YYYY-MM-DD/);
  });

  it('names Kafka sources by topic and makes other sources key-safe', () => {
    expect(sourceKeyName('kafka:curated.events')).toBe('curated.events');
    expect(sourceKeyName('file:/data/in put/events.jsonl')).toBe('file__data_in_put_events.jsonl');
    expect(sourceKeyName('generator:demo-1')).toBe('generator_demo-1');
  });
});

describe('flush policy', () => {
  const limits = { maxRows: 100, maxBytes: 1000, maxAgeMs: 60_000 };

  it('never flushes an empty buffer', () => {
    expect(flushReason({ messages: 0, bytes: 0, oldestAt: null }, limits, 1e12)).toBeNull();
    expect(msUntilDue({ messages: 0, bytes: 0, oldestAt: null }, limits, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('flushes at the row limit, the byte limit or the age limit, whichever comes first', () => {
    expect(flushReason({ messages: 99, bytes: 999, oldestAt: 0 }, limits, 59_999)).toBeNull();
    expect(flushReason({ messages: 100, bytes: 10, oldestAt: 0 }, limits, 0)).toBe('rows');
    expect(flushReason({ messages: 5, bytes: 1000, oldestAt: 0 }, limits, 0)).toBe('bytes');
    expect(flushReason({ messages: 1, bytes: 1, oldestAt: 0 }, limits, 60_000)).toBe('interval');
    expect(flushReason({ messages: 100, bytes: 1000, oldestAt: 0 }, limits, 60_000)).toBe('rows');
  });

  it('says how long until the age limit is due', () => {
    expect(msUntilDue({ messages: 1, bytes: 1, oldestAt: 1000 }, limits, 21_000)).toBe(40_000);
    expect(msUntilDue({ messages: 1, bytes: 1, oldestAt: 1000 }, limits, 90_000)).toBe(0);
  });
});
