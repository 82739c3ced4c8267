// DistinctLists against one Set<number> per owner: chunk moves (2 → 4 → 8 → 16 slots), the
// switch to a Set past 16 members, page boundaries and owner-array growth.
import { describe, expect, it } from 'vitest';
import { DistinctLists } from '../../src/batch/distinct-lists.ts';

describe('DistinctLists', () => {
  it('answers like a Set per owner', () => {
    const lists = new DistinctLists(1000); // small pages: many page boundaries
    const reference: Set<number>[] = [];
    // Deterministic pseudo-random adds: 20k owners (several owner-array doublings and pages),
    // most with a few members, every 97th with up to 40 (past the 16-member list).
    let seed = 7;
    const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    for (let owner = 0; owner < 20_000; owner++) {
      const first = Math.floor(random() * 50);
      lists.addOwner(first);
      reference.push(new Set([first]));
    }
    for (let i = 0; i < 200_000; i++) {
      const owner = i % 97 === 0 ? 97 * Math.floor(random() * 200) : Math.floor(random() * 20_000);
      const n = Math.floor(random() * (owner % 97 === 0 ? 40 : 12));
      const set = reference[owner] as Set<number>;
      const before = set.size;
      set.add(n);
      expect(lists.add(owner, n)).toBe(set.size !== before);
    }
    reference.forEach((set, owner) => expect(lists.sizeOf(owner)).toBe(set.size));
    expect(reference.some((set) => set.size > 16)).toBe(true);
  });
});
