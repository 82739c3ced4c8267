// The queue port's retry rule: separate budgets and backoffs for failures and not-ready answers.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, TaskCancelledError, TaskNotReadyError, retryDelayMs, shouldRetry } from '../../src/io/queue/queue-port.ts';

describe('retry policy', () => {
  const failure = new Error('connection reset');
  const notReady = new TaskNotReadyError('archive behind');

  it('doubles each backoff from its own base up to the ceiling', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(DEFAULT_RETRY_POLICY, n, failure))).toEqual([10_000, 20_000, 40_000]);
    expect([1, 2, 3, 4, 5, 6, 7, 47].map((n) => retryDelayMs(DEFAULT_RETRY_POLICY, n, notReady))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000, 1_800_000,
    ]);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 5000, notReady)).toBe(1_800_000);
  });

  it('waits for data for hours: the 47 not-ready waits add up to 21.5 hours', () => {
    let total = 0;
    for (let n = 1; n < DEFAULT_RETRY_POLICY.notReadyAttempts; n++) total += retryDelayMs(DEFAULT_RETRY_POLICY, n, notReady);
    expect(total).toBe(77_460_000);
  });

  it('retries within each budget, never a cancellation', () => {
    expect([1, 2, 3].map((n) => shouldRetry(DEFAULT_RETRY_POLICY, n, failure))).toEqual([true, true, false]);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 47, notReady)).toBe(true);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 48, notReady)).toBe(false);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, new TaskCancelledError('stop'))).toBe(false);
  });
});
