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

export interface MemoryKeeperOptions {
  readonly log: Logger;
  readonly registry?: Registry;
  /** Whether a peak is still under way (a catch-up, a job): the keeper waits for it to end. */
  readonly busy: () => Promise<boolean>;
  readonly checkEveryMs?: number;
  /** How far RSS must have grown past what the last reclaim left (default 64 MiB). */
  readonly growthBytes?: number;
  /** The least time between two reclaims (default 5 min). */
  readonly minGapMs?: number;
}

const MIB = 1024 * 1024;

export function memoryKeeper(options: MemoryKeeperOptions): Component {
  const checkEveryMs = options.checkEveryMs ?? 15_000;
  const growthBytes = options.growthBytes ?? 64 * MIB;
  const minGapMs = options.minGapMs ?? 5 * 60_000;
  const reclaims: Counter | undefined = options.registry?.counter('tidemark_memory_reclaims_total', 'Memory-reducing collections run after a peak (catch-up, daily flow).');
  return {
    name: 'memory-keeper',
    async run(signal, started) {
      started();
      let floor = process.memoryUsage.rss();
      let lastAt = -Infinity;
      while (!signal.aborted) {
        await sleep(checkEveryMs, signal);
        if (signal.aborted) break;
        const rss = process.memoryUsage.rss();
        floor = Math.min(floor, rss);
        if (rss - floor < growthBytes || performance.now() - lastAt < minGapMs) continue;
        if (await options.busy().catch(() => true)) continue;
        const reclaim = reclaimHeap();
        lastAt = performance.now();
        floor = reclaim.rssAfterBytes;
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
