// NumericMap against a Map<number, number> under random adds and removals that force growth,
// long probe runs and deletions in the middle of them (the backward shift).
import { describe, expect, it } from 'vitest';
import { NumericMap } from '../../src/batch/numeric-map.ts';

describe('NumericMap', () => {
  it('matches a Map through 200k random counted adds and removals', () => {
    const map = new NumericMap();
    const reference = new Map<number, number>();
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 200_000; i++) {
      // Few distinct keys, some beyond 2^32, so that entries come and go and collide.
      const key = (next() % 5000) * (i % 3 === 0 ? 2 ** 33 + 1 : 1);
      const delta = next() % 3 === 0 ? -1 : 1;
      const before = reference.get(key) ?? 0;
      if (before + delta < 0) continue;
      const after = before + delta;
      if (after === 0) reference.delete(key);
      else reference.set(key, after);
      expect(map.add(key, delta)).toBe(after);
    }
    expect(map.size).toBe(reference.size);
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
    const seen = new Map<number, number>();
    map.forEach((key, value) => seen.set(key, value));
    expect(seen).toEqual(reference);
  });

  it('keeps values set, reports missing keys, and refuses keys that are not safe integers', () => {
    const map = new NumericMap();
    map.set(2 ** 52, -5.5);
    expect(map.get(2 ** 52)).toBe(-5.5);
    expect(map.get(3, Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(() => map.set(-1, 1)).toThrow(RangeError);
    expect(() => map.set(0.5, 1)).toThrow(RangeError);
  });
});
