// The window cells' session table against a Map, over random adds and removes on a small set of
// ids (long probe runs, deletions inside them, growing and shrinking).
import { describe, expect, it } from 'vitest';
import { SessionCounts } from '../../src/stream/session-counts.ts';

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

describe('SessionCounts', () => {
  for (const keys of [3, 40, 2000]) {
    it(`agrees with a Map over 200,000 random operations on ${keys} ids`, () => {
      const random = seeded(keys);
      const table = new SessionCounts();
      const reference = new Map<string, number>();
      for (let op = 0; op < 200_000; op++) {
        const id = `s-${Math.floor(random() * keys)}`;
        const n = 1 + Math.floor(random() * 3);
        // Removals outnumber additions in phases, so the table also empties and shrinks.
        const removing = random() < (Math.floor(op / 20_000) % 2 === 0 ? 0.4 : 0.7);
        if (removing) {
          table.remove(id, n);
          const left = (reference.get(id) ?? 0) - n;
          if (left > 0) reference.set(id, left);
          else reference.delete(id);
        } else {
          table.add(id, n);
          reference.set(id, (reference.get(id) ?? 0) + n);
        }
        if (op % 997 === 0) {
          expect(table.size).toBe(reference.size);
          for (let k = 0; k < keys; k++) expect(table.get(`s-${k}`)).toBe(reference.get(`s-${k}`) ?? 0);
        }
      }
      expect(table.size).toBe(reference.size);
      for (let k = 0; k < keys; k++) expect(table.get(`s-${k}`)).toBe(reference.get(`s-${k}`) ?? 0);
    });
  }

  it('removing a session it does not hold changes nothing', () => {
    const table = new SessionCounts();
    table.add('a', 2);
    table.remove('b', 1);
    expect([table.size, table.get('a'), table.get('b')]).toEqual([1, 2, 0]);
  });
});
