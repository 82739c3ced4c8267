// The queue port's conformance suite: one set of behaviours every adapter must show (SPEC §6):
// chain order, retries with exponential backoff, the not-ready budget, idempotent task ids, the
// concurrency limit and cancellation. Run it once per adapter with a factory of fresh queues.
import { afterEach, describe, expect, it } from 'vitest';
import { TaskCancelledError, TaskNotReadyError } from '../../src/io/queue/queue-port.ts';
import type { ChainSettled, ChainSpec, QueuePort, RetryPolicy, TaskHandler, WorkerHandle } from '../../src/io/queue/queue-port.ts';

export interface QueueFactory {
  readonly label: string;
  create(retry: RetryPolicy): Promise<QueuePort>;
}

export const CONFORMANCE_RETRY: RetryPolicy = { failureAttempts: 3, failureBackoffMs: 200, notReadyAttempts: 5, notReadyBackoffMs: 50, maxBackoffMs: 400 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(condition: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function chain(runId: string, key: string, names: readonly string[], handler = 'record'): ChainSpec {
  return { runId, key, tasks: names.map((name) => ({ id: `${runId}.${key}.${name}`, name: handler, data: { step: name } })) };
}

export function queueConformanceSuite(factory: QueueFactory): void {
  describe(`queue port conformance: ${factory.label}`, () => {
    let queue: QueuePort | undefined;
    let worker: WorkerHandle | undefined;
    const settled: ChainSettled[] = [];

    afterEach(async () => {
      await worker?.close(0);
      await queue?.close();
      worker = undefined;
      queue = undefined;
      settled.length = 0;
    });

    async function start(handlers: Record<string, TaskHandler>, concurrency = 2): Promise<QueuePort> {
      queue = await factory.create(CONFORMANCE_RETRY);
      worker = await queue.startWorker({
        handlers,
        concurrency,
        onChainSettled: async (event) => void settled.push(event),
      });
      return queue;
    }

    it('runs the tasks of a chain in order, chains side by side', async () => {
      const seen: string[] = [];
      const q = await start({ record: async (task, context) => void seen.push(`${context.chainKey}:${String(task.data['step'])}`) });
      await q.enqueue([chain('r1', 'a', ['one', 'two', 'three']), chain('r1', 'b', ['one', 'two', 'three'])]);
      await waitUntil(() => settled.length === 2, 20_000, 'two chains');
      for (const key of ['a', 'b']) expect(seen.filter((s) => s.startsWith(`${key}:`))).toEqual([`${key}:one`, `${key}:two`, `${key}:three`]);
      expect(settled.map((s) => [s.chainKey, s.outcome, s.taskId]).sort()).toEqual([
        ['a', 'succeeded', 'r1.a.three'],
        ['b', 'succeeded', 'r1.b.three'],
      ]);
    });

    it('retries a failed task with exponential backoff, then continues the chain', async () => {
      const attempts: { step: string; attempt: number; at: number }[] = [];
      const q = await start({
        record: async (task, context) => {
          attempts.push({ step: String(task.data['step']), attempt: context.attempt, at: Date.now() });
          if (task.data['step'] === 'flaky' && context.attempt < 3) throw new Error(`boom ${context.attempt}`);
        },
      });
      await q.enqueue([chain('r2', 'a', ['flaky', 'after'])]);
      await waitUntil(() => settled.length === 1, 20_000, 'the chain');
      expect(attempts.map((a) => [a.step, a.attempt])).toEqual([['flaky', 1], ['flaky', 2], ['flaky', 3], ['after', 1]]);
      const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
      // 200 ms, then doubled to 400 ms (the ceiling).
      expect(second - first).toBeGreaterThanOrEqual(190);
      expect(third - second).toBeGreaterThanOrEqual(390);
      expect(settled[0]?.outcome).toBe('succeeded');
    });

    it('fails a chain once the failure budget is spent; later tasks never run', async () => {
      const seen: string[] = [];
      const q = await start({
        record: async (task, context) => {
          seen.push(`${String(task.data['step'])}#${context.attempt}`);
          if (task.data['step'] === 'broken') throw new Error('always broken');
        },
      });
      await q.enqueue([chain('r3', 'a', ['ok', 'broken', 'never'])]);
      await waitUntil(() => settled.length === 1, 20_000, 'the chain');
      expect(seen).toEqual(['ok#1', 'broken#1', 'broken#2', 'broken#3']);
      expect(settled[0]).toEqual({ runId: 'r3', chainKey: 'a', outcome: 'failed', taskId: 'r3.a.broken', error: 'always broken' });
    });

    it('keeps retrying a not-ready task on its own, longer budget', async () => {
      const seen: number[] = [];
      const q = await start({
        record: async (_task, context) => {
          seen.push(context.attempt);
          // Four not-ready answers: more than the failure budget (3), within the not-ready one (5).
          if (context.attempt <= 4) throw new TaskNotReadyError('archive not complete');
        },
      });
      await q.enqueue([chain('r4', 'a', ['wait'])]);
      await waitUntil(() => settled.length === 1, 20_000, 'the chain');
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(settled[0]?.outcome).toBe('succeeded');
    });

    it('fails a task that stays not ready past its budget', async () => {
      const seen: number[] = [];
      const q = await start({
        record: async (_task, context) => {
          seen.push(context.attempt);
          throw new TaskNotReadyError('archive not complete');
        },
      });
      await q.enqueue([chain('r4b', 'a', ['wait', 'never'])]);
      await waitUntil(() => settled.length === 1, 20_000, 'the chain');
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(settled[0]).toEqual({ runId: 'r4b', chainKey: 'a', outcome: 'failed', taskId: 'r4b.a.wait', error: 'archive not complete' });
    });

    it('runs a task id once, however often it is enqueued', async () => {
      let runs = 0;
      const q = await start({ record: async () => void runs++ });
      await q.enqueue([chain('r5', 'a', ['x', 'y'])]);
      await q.enqueue([chain('r5', 'a', ['x', 'y'])]);
      await waitUntil(() => settled.length === 1, 20_000, 'the chain');
      await q.enqueue([chain('r5', 'a', ['x', 'y'])]);
      await sleep(500);
      expect(runs).toBe(2);
      expect(settled).toHaveLength(1);
    });

    it('never runs more tasks at once than the concurrency limit', async () => {
      let now = 0;
      let peak = 0;
      const q = await start(
        {
          record: async () => {
            now++;
            peak = Math.max(peak, now);
            await sleep(150);
            now--;
          },
        },
        2,
      );
      await q.enqueue(['a', 'b', 'c', 'd', 'e', 'f'].map((key) => chain('r6', key, ['only'])));
      await waitUntil(() => settled.length === 6, 20_000, 'six chains');
      expect(peak).toBe(2);
    });

    it('cancels a run: the running task is aborted, pending ones never start, other runs go on', async () => {
      const started: string[] = [];
      const q = await start(
        {
          record: async (task, context) => {
            started.push(`${context.runId}:${context.chainKey}:${String(task.data['step'])}`);
            if (context.runId !== 'doomed') return;
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(resolve, 15_000);
              context.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                reject(new TaskCancelledError('stopped on signal'));
              });
            });
          },
        },
        1,
      );
      await q.enqueue([chain('doomed', 'a', ['first', 'second']), chain('doomed', 'b', ['first', 'second'])]);
      await waitUntil(() => started.length === 1, 20_000, 'the first task');
      await q.cancelRun('doomed');
      await q.enqueue([chain('other', 'a', ['first'])]);
      await waitUntil(() => settled.length === 3, 20_000, 'three chains');
      expect(started).toEqual(['doomed:a:first', 'other:a:first']);
      expect(settled.map((s) => `${s.runId}:${s.chainKey}:${s.outcome}`).sort()).toEqual([
        'doomed:a:cancelled',
        'doomed:b:cancelled',
        'other:a:succeeded',
      ]);
    });
  });
}
