// The stream's catch-up progress: messages behind, the rate the gap closes, the time to caught up.
import { describe, expect, it } from 'vitest';
import { createCatchUpLog } from '../../src/io/catch-up-log.ts';
import type { Logger } from '../../src/io/log.ts';

function recorder(): { log: Logger; lines: [string, Record<string, unknown> | undefined][] } {
  const lines: [string, Record<string, unknown> | undefined][] = [];
  const keep = (msg: string, fields?: Record<string, unknown>): void => void lines.push([msg, fields]);
  return { log: { debug: keep, info: keep, warn: keep, error: keep }, lines };
}

describe('catch-up log', () => {
  it('reports the gap every interval with the closing rate and ETA, then says caught up once', () => {
    const { log, lines } = recorder();
    let now = 0;
    const catchUp = createCatchUpLog(log, () => now, 10_000);
    const ends = new Map([[0, '10000'], [1, '5000']]);
    catchUp.committed([{ partition: 0, nextOffset: '1000' }, { partition: 1, nextOffset: '1000' }], ends);
    now = 5_000;
    catchUp.committed([{ partition: 0, nextOffset: '2000' }], ends); // within the interval: silent
    now = 10_000;
    catchUp.committed([{ partition: 0, nextOffset: '4000' }, { partition: 1, nextOffset: '4000' }], ends);
    now = 20_000;
    catchUp.committed([{ partition: 0, nextOffset: '10000' }, { partition: 1, nextOffset: '5000' }], ends);
    catchUp.committed([], ends);
    catchUp.committed([{ partition: 0, nextOffset: '10000' }], undefined); // no log ends: nothing known
    expect(lines).toEqual([
      ['catching up', { behind: 13_000, closing_per_s: null, eta_s: null }],
      ['catching up', { behind: 7_000, closing_per_s: 600, eta_s: 12 }],
      ['caught up', { behind: 0 }],
    ]);
  });
});
