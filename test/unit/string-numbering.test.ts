// StringNumbering: first-seen numbers, exact equality (also for strings whose hashes collide in
// the table's low bits), growth past many doublings, take().
import { describe, expect, it } from 'vitest';
import { StringNumbering } from '../../src/batch/string-numbering.ts';

describe('StringNumbering', () => {
  it('numbers strings in first-seen order and finds them again across growth', () => {
    const numbering = new StringNumbering();
    const n = 100_000;
    for (let i = 0; i < n; i++) expect(numbering.numberOrAdd(`s-${i}`)).toBe(-1 - i);
    for (let i = n - 1; i >= 0; i -= 7) expect(numbering.numberOrAdd(`s-${i}`)).toBe(i);
    expect(numbering.size).toBe(n);
    expect(numbering.numberOf('s-99999')).toBe(99_999);
    expect(numbering.numberOf('s-100000')).toBe(-1);
    expect(numbering.keys()[12_345]).toBe('s-12345');
  });

  it('tells apart strings that differ only in case, length or a non-ASCII character', () => {
    const numbering = new StringNumbering();
    const ids = ['a', 'A', 'a ', '', 'é', 'e\u0301', '\u{1F600}', 'ab', 'ba'];
    ids.forEach((id, i) => expect(numbering.numberOrAdd(id)).toBe(-1 - i));
    ids.forEach((id, i) => expect(numbering.numberOf(id)).toBe(i));
  });

  it('take() hands over the strings by number and starts again', () => {
    const numbering = new StringNumbering();
    numbering.numberOrAdd('x');
    numbering.numberOrAdd('y');
    expect(numbering.take()).toEqual(['x', 'y']);
    expect(numbering.size).toBe(0);
    expect(numbering.numberOf('x')).toBe(-1);
    expect(numbering.numberOrAdd('y')).toBe(-1);
  });
});
