// DayRecords' narrow columns: 16 bits per value until one needs more, then every row widened;
// event_id references in 5 bytes (set, 33-bit reference).
import { describe, expect, it } from 'vitest';
import { DayRecords, SmallIntColumn } from '../../src/batch/hot-day/day-records.ts';

describe('SmallIntColumn', () => {
  it('keeps −1 … 65534 in 16 bits, widens for larger values without losing rows, and resizes', () => {
    const column = new SmallIntColumn(4);
    column.set(0, -1);
    column.set(1, 65_534);
    column.set(2, 7);
    expect([column.get(0), column.get(1), column.get(2)]).toEqual([-1, 65_534, 7]);
    column.set(3, 70_000);
    column.resize(6);
    column.set(4, 2 ** 30);
    expect([0, 1, 2, 3, 4, 5].map((i) => column.get(i))).toEqual([-1, 65_534, 7, 70_000, 2 ** 30, -1]);
  });
});

describe('DayRecords event_id references', () => {
  it('keeps (set, reference) exactly, fallback references past 2^32 included, across growth', () => {
    const records = new DayRecords(0);
    const cases: [number, number][] = [
      [0, 0],
      [1, 4_294_967_295],
      [2, 4_294_967_296],
      [3, 2 * 4_294_967_296 - 1],
      [127, 12_345],
    ];
    for (let round = 0; round < 20_000; round++) {
      for (const [set, ref] of cases) records.push(round, 0, 0, 0, -1, set, ref);
    }
    for (let row = 0; row < records.length; row += 997) {
      const [set, ref] = cases[row % cases.length] as [number, number];
      expect([records.idSetAt(row), records.idRefAt(row)]).toEqual([set, ref]);
    }
    expect(() => records.push(0, 0, 0, 0, -1, 128, 0)).toThrow(RangeError);
    expect(() => records.push(0, 0, 0, 0, -1, 0, 2 ** 33)).toThrow(RangeError);
  });
});
