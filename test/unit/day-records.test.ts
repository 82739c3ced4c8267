// DayRecords' narrow columns: 16 bits per value until one needs more, then every row widened.
import { describe, expect, it } from 'vitest';
import { SmallIntColumn } from '../../src/batch/hot-day/day-records.ts';

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
