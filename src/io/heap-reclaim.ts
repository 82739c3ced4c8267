// Returning a peak's memory to the system. After a phase that grew V8's heap far beyond what the
// process keeps (a catch-up, a daily flow over a day of events), V8 holds on to the pages: the
// committed heap stays at its peak, and pages it frees go to a pool that stays resident. Only a
// memory-reducing full collection (V8's "last resort" one) compacts the heap and releases that
// pool: on Node 24, 6M dropped objects leave RSS at 517 MB after a plain full GC and at 63 MB
// after this one. The collection is synchronous (a pause of a fraction of a second for a heap of
// a few hundred MB), so callers run it after a peak, not on a timer.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let collect: Collect | undefined;

export interface HeapReclaim {
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly pauseMs: number;
}

export function reclaimHeap(): HeapReclaim {
  // The collection is reachable from JavaScript only as the `gc` function; exposing it at run
  // time makes it available in new contexts without changing the process's own globals.
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  }
  const rssBeforeBytes = process.memoryUsage.rss();
  const startedAt = performance.now();
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { rssBeforeBytes, rssAfterBytes: process.memoryUsage.rss(), pauseMs: performance.now() - startedAt };
}
