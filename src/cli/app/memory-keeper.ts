// The embedded demo's resident memory after its peaks. A catch-up after downtime or the daily flow
// over a day of events grows the heap to several times what the demo keeps; V8 then holds on to
// those pages for as long as the process lives (src/io/heap-reclaim.ts), so without this the demo
// would sit at its peak's RSS all day. The keeper samples RSS and, once the RSS has grown well
// past what the last reclaim left and the demo is between peaks (caught up, no job running),
// runs the memory-reducing collection. Growth, not a fixed ceiling, decides: what the demo keeps
// grows with its windows, and a reclaim that cannot free anything should not repeat.
import type { Logger } from '../../io/log.ts';
import type { Counter, Registry } from '../../io/metrics.ts';
import { reclaimHeap } from '../../io/heap-reclaim.ts';
import { sleep } from '../../io/sleep.ts';
import type { Component } from './components.ts';

export interface ReclaimPolicy {
  /** How far RSS must have grown past the least seen since the last reclaim (default 64 MiB). */
  readonly growthBytes: number;
  /** The least time between two reclaims (default 5 min). */
  readonly minGapMs: number;
}

const MIB = 1024 * 1024;
export const DEFAULT_RECLAIM_POLICY: ReclaimPolicy = { growthBytes: 64 * MIB, minGapMs: 5 * 60_000 };

/** When a reclaim is worth its pause: the decision, apart from the clock and the process. */
export class PeakWatch {
  private floor: number;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly policy: ReclaimPolicy;

  constructor(rssBytes: number, policy: ReclaimPolicy = DEFAULT_RECLAIM_POLICY) {
    this.floor = rssBytes;
    this.policy = policy;
  }

  /** A sample of RSS at `nowMs`: true when a reclaim is due (if the process is between peaks). */
  due(rssBytes: number, nowMs: number): boolean {
    this.floor = Math.min(this.floor, rssBytes);
    return rssBytes - this.floor >= this.policy.growthBytes && nowMs - this.lastAt >= this.policy.minGapMs;
  }

  /** A reclaim ran at `nowMs` and left `rssBytes`: the new floor. */
  reclaimed(rssBytes: number, nowMs: number): void {
    this.floor = rssBytes;
    this.lastAt = nowMs;
  }
}

export interface MemoryKeeperOptions {
  readonly log: Logger;
  readonly registry?: Registry;
  /** Whether a peak is still under way (a catch-up, a job): the keeper waits for it to end. */
  readonly busy: () => Promise<boolean>;
  readonly checkEveryMs?: number;
  readonly policy?: ReclaimPolicy;
}

export function memoryKeeper(options: MemoryKeeperOptions): Component {
  const checkEveryMs = options.checkEveryMs ?? 15_000;
  const reclaims: Counter | undefined = options.registry?.counter('tidemark_memory_reclaims_total', 'Memory-reducing collections run after a peak (catch-up, daily flow).');
  return {
    name: 'memory-keeper',
    async run(signal, started) {
      started();
      const watch = new PeakWatch(process.memoryUsage.rss(), options.policy);
      while (!signal.aborted) {
        await sleep(checkEveryMs, signal);
        if (signal.aborted) break;
        if (!watch.due(process.memoryUsage.rss(), performance.now())) continue;
        if (await options.busy().catch(() => true)) continue;
        const reclaim = reclaimHeap();
        watch.reclaimed(reclaim.rssAfterBytes, performance.now());
        reclaims?.inc();
        options.log.info('returned a peak of memory to the system', {
          rss_before_mb: Math.round(reclaim.rssBeforeBytes / MIB),
          rss_after_mb: Math.round(reclaim.rssAfterBytes / MIB),
          pause_ms: Math.round(reclaim.pauseMs),
        });
      }
    },
  };
}
