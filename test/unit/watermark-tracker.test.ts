// The watermark across a consumer group: the minimum over every live partition, local or owned
// by another instance, minus the delay; never backwards. These cases are the ones a rebalance
// produces: a partition leaving this instance must keep holding the watermark until the group's
// clocks say where it is.
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../src/stream/watermark-tracker.ts';

const DELAY = 10 * 60_000;
const IDLE = 60_000;
const T = Date.parse('2026-03-08T12:00:00Z');
const HOUR = 3_600_000;

function tracker(): WatermarkTracker {
  return new WatermarkTracker({ delayMs: DELAY, idleTimeoutMs: IDLE });
}

describe('WatermarkTracker', () => {
  it('is the minimum over local and external live partitions, minus the delay', () => {
    const w = tracker();
    w.track(0, Number.NEGATIVE_INFINITY, 0);
    w.setExternal([{ partition: 1, maxEventTs: T, committedAt: 0, caughtUp: false }]);
    expect(w.observe(0, T + 2 * HOUR, 1)).toBe(T - DELAY);
  });

  it('keeps a revoked partition in the minimum until the group clocks are read again', () => {
    const w = tracker();
    w.track(0, Number.NEGATIVE_INFINITY, 0);
    w.track(1, Number.NEGATIVE_INFINITY, 0);
    w.observe(0, T, 1);
    w.observe(1, T + 2 * HOUR, 1);
    expect(w.watermark).toBe(T - DELAY);
    // Partition 0 goes to another instance; partition 1 moves on. Partition 0 is between owners:
    // it must still hold the watermark at T, however long the handover takes.
    w.untrack(0);
    expect(w.observe(1, T + 3 * HOUR, 10 * IDLE)).toBe(T - DELAY);
    expect(w.observe(1, T + 4 * HOUR, 100 * IDLE)).toBe(T - DELAY);
    // The new owner's commit, read from the group's clocks, releases it.
    w.setExternal([{ partition: 0, maxEventTs: T + HOUR, committedAt: 100 * IDLE, caughtUp: false }]);
    expect(w.observe(1, T + 5 * HOUR, 100 * IDLE)).toBe(T + HOUR - DELAY);
  });

  it('lets a caught-up external partition go idle, never one with a backlog', () => {
    const w = tracker();
    w.track(0, Number.NEGATIVE_INFINITY, 0);
    w.setExternal([
      { partition: 1, maxEventTs: T, committedAt: 0, caughtUp: true },
      { partition: 2, maxEventTs: T + HOUR, committedAt: 0, caughtUp: false },
    ]);
    expect(w.observe(0, T + 2 * HOUR, 2 * IDLE)).toBe(T + HOUR - DELAY);
  });

  it('never moves backwards', () => {
    const w = tracker();
    w.track(0, Number.NEGATIVE_INFINITY, 0);
    w.observe(0, T + HOUR, 1);
    w.setExternal([{ partition: 1, maxEventTs: T, committedAt: 1, caughtUp: false }]);
    expect(w.recompute(2)).toBe(T + HOUR - DELAY);
  });
});
