// StringNumbering must number like a Map<string, number> filled in order of first sight, for
// packed UUIDs, ASCII records and fallback strings alike, across table growth and pages.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StringNumbering } from '../../src/batch/string-numbering.ts';

describe('StringNumbering', () => {
  it('numbers 0, 1, 2, … in order of first sight and names each number back', () => {
    const kinds = (i: number): string => [randomUUID(), `s-${i}`, `Ünï-${i}`, 'x'.repeat(260) + i][i % 4] as string;
    const values = Array.from({ length: 200_000 }, (_, i) => kinds(i));
    const numbering = new StringNumbering();
    const reference = new Map<string, number>();
    for (const value of [...values, ...values.slice().reverse()]) {
      if (!reference.has(value)) reference.set(value, reference.size);
      expect(numbering.intern(value)).toBe(reference.get(value));
    }
    expect(numbering.size).toBe(reference.size);
    for (const [value, n] of reference) {
      expect(numbering.lookup(value)).toBe(n);
      expect(numbering.name(n)).toBe(value);
    }
    expect(numbering.lookup('never seen')).toBe(-1);
    expect(numbering.lookup('Ünï-never')).toBe(-1);
    expect(numbering.size).toBe(reference.size);
    expect(() => numbering.name(reference.size)).toThrow(RangeError);
  });

  it('tells apart strings that differ only in case, length or a non-ASCII character; take() hands them over', () => {
    const numbering = new StringNumbering();
    const ids = ['a', 'A', 'a ', '', 'é', 'e\u0301', '\u{1F600}', 'ab', 'ba'];
    ids.forEach((id, i) => expect(numbering.intern(id)).toBe(i));
    ids.forEach((id, i) => expect(numbering.lookup(id)).toBe(i));
    expect(numbering.take()).toEqual(ids);
  });

  it('internUtf8() and lookupUtf8() number the UTF-8 bytes of a string as intern() numbers the string', () => {
    const values = ['s-1', 'Ünï', randomUUID(), 's-1', 'y'.repeat(280), 'Ünï'];
    const bytes = Buffer.from(values.join(''));
    let at = 0;
    const numbering = new StringNumbering();
    const reference = new StringNumbering();
    for (const value of values) {
      const end = at + Buffer.byteLength(value);
      expect(numbering.lookupUtf8(bytes, at, end)).toBe(reference.lookup(value));
      expect(numbering.internUtf8(bytes, at, end)).toBe(reference.intern(value));
      at = end;
    }
    expect(numbering.names()).toEqual(reference.names());
  });
});
