// EventIdSet must answer exactly like a Set<string>: packed UUIDs, ASCII records and the
// fallback strings never collide, and growth (rehash, new pages) loses nothing.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventIdSet } from '../../src/batch/event-id-set.ts';

/** Adds ids to an EventIdSet and a Set<string> side by side; every answer must agree. */
function agreeWithSet(ids: readonly string[]): EventIdSet {
  const set = new EventIdSet();
  const reference = new Set<string>();
  ids.forEach((id, i) => {
    const before = reference.size;
    reference.add(id);
    const added = set.add(id);
    if (added !== (reference.size !== before)) throw new Error(`id #${i} ${JSON.stringify(id)}: set said ${added}`);
  });
  expect(set.size).toBe(reference.size);
  return set;
}

describe('EventIdSet', () => {
  it('adds once, then reports duplicates', () => {
    const set = new EventIdSet();
    expect(set.add('gen-11-1')).toBe(true);
    expect(set.add('gen-11-2')).toBe(true);
    expect(set.add('gen-11-1')).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.size).toBe(3);
  });

  it('keeps case and format variants of a UUID apart, as string comparison does', () => {
    const lower = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const variants = [lower, lower.toUpperCase(), `{${lower}}`, lower.replaceAll('-', ''), `${lower.slice(0, 35)}E`, ` ${lower.slice(1)}`];
    const set = agreeWithSet([...variants, ...variants]);
    expect(set.size).toBe(variants.length);
    expect(set.fallbackSize).toBe(0);
  });

  it('does not confuse a packed UUID with a 17-byte ASCII id that spells its record', () => {
    // The packed record is [255, 16 bytes]; an ASCII record starts with its length (< 255).
    const uuid = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    const set = agreeWithSet([uuid, '\u007f'.repeat(16), uuid, 'f'.repeat(32)]);
    expect(set.size).toBe(3);
  });

  it('holds non-ASCII and very long ids in the fallback set, exactly', () => {
    const long = 'x'.repeat(300);
    const ids = ['évènement-1', 'évènement-1', 'evenement-1', long, long, `${long}y`, '事件', '事件', 'x'.repeat(254), 'x'.repeat(255)];
    const set = agreeWithSet(ids);
    expect(set.size).toBe(7);
    expect(set.fallbackSize).toBe(5); // two accented, one CJK, the 300- and 301-char ids, the 255-char one
  });

  it('release() frees the buffers and refuses later adds', () => {
    const set = new EventIdSet();
    set.add('gen-1-1');
    set.release();
    expect(() => set.add('gen-1-2')).toThrow(/after release/);
  });

  it('grows past its initial table and across record pages without losing an id', () => {
    // 300k UUIDs (~5 MB of records: more than one page) and 300k short ids, each added twice
    // in interleaved order, so that duplicates are looked up after several rehashes.
    const uuids = Array.from({ length: 300_000 }, () => randomUUID());
    const short = Array.from({ length: 300_000 }, (_, i) => `gen-7-${i}`);
    const firstPass = uuids.flatMap((u, i) => [u, short[i] as string]);
    const ids = [...firstPass, ...firstPass.slice().reverse()];
    const set = agreeWithSet(ids);
    expect(set.size).toBe(600_000);
    expect(set.fallbackSize).toBe(0);
  });

  it('addRef() names each new id by a reference idAt() turns back into it, also after releaseIndex()', () => {
    const ids = [randomUUID(), 'gen-1-42', 'Ünïcode-id', 'x'.repeat(300), '', '{' + randomUUID() + '}'];
    const set = new EventIdSet();
    const refs = ids.map((id) => set.addRef(id));
    expect(refs.every((ref) => ref >= 0)).toBe(true);
    expect(ids.map((id) => set.addRef(id))).toEqual(ids.map(() => -1));
    set.releaseIndex();
    expect(refs.map((ref) => set.idAt(ref))).toEqual(ids);
    expect(() => set.add('another')).toThrow(/after release/);
  });

  it('addRefUtf8() answers like addRef() of the decoded string, for every kind of id', () => {
    const ids = [randomUUID(), randomUUID().toUpperCase(), 'gen-1-42', 'Ünïcode-id', '\u{1F600}', 'x'.repeat(300), '', '{' + randomUUID() + '}'];
    const bytes = Buffer.from(ids.join(''));
    const offsets = [0];
    for (const id of ids) offsets.push((offsets.at(-1) as number) + Buffer.byteLength(id));
    const byBytes = new EventIdSet();
    const byStrings = new EventIdSet();
    for (let round = 0; round < 2; round++) {
      ids.forEach((id, i) => {
        const ref = byBytes.addRefUtf8(bytes, offsets[i] as number, offsets[i + 1] as number);
        expect(ref >= 0).toBe(byStrings.addRef(id) >= 0);
        if (ref >= 0) expect(byBytes.idAt(ref)).toBe(id);
      });
    }
    expect(byBytes.size).toBe(ids.length);
  });

  it('compareRefs() orders ids as strings compare, across packed UUIDs, ASCII ids, prefixes and fallbacks', () => {
    const ids = [
      ...Array.from({ length: 20 }, () => randomUUID()),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      'gen-1-1', 'gen-1-10', 'gen-1-9', 'gen-1', '', 'a', 'A', '~', 'Ünï', 'x'.repeat(300), '0', '1-2-3',
    ];
    const set = new EventIdSet();
    const refs = ids.map((id) => set.addRef(id));
    const sign = (n: number): number => Math.sign(n);
    ids.forEach((a, i) => {
      ids.forEach((b, j) => {
        expect(sign(set.compareRefs(refs[i] as number, refs[j] as number)), `${a} vs ${b}`).toBe(sign(a < b ? -1 : a > b ? 1 : 0));
      });
    });
  });
});
