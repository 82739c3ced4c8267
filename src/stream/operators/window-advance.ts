// Moves sliding windows' shared frontier up to a final instant one step at a time, jumping over
// stretches where the windows are empty and no bucket starts, and reports each snapshot instant
// passed. Shared by the windowed operators (top documents, clinical trend).
import { floorTo } from '../../marts/window-math.ts';
import type { GroupBucket } from '../group-buckets.ts';
import type { SlidingWindow } from '../sliding-window.ts';
import { firstAtOrAfter } from './hot-operator.ts';
import type { BucketLookup } from './hot-operator.ts';

export function advanceWindows(
  windows: readonly SlidingWindow[],
  to: number,
  lookup: BucketLookup<GroupBucket>,
  starts: readonly number[],
  earliestNeeded: (frontier: number) => number,
  onSnapshot: (snapshotTs: number) => void,
): void {
  const main = windows[0]!;
  const step = main.stepMs;
  const ceiling = Number.isFinite(to) ? floorTo(to, step) : Number.POSITIVE_INFINITY;
  while (main.frontier + step <= to) {
    if (windows.every((w) => w.cells.size === 0)) {
      const next = starts[firstAtOrAfter(starts, earliestNeeded(main.frontier))];
      const target = next === undefined ? ceiling : Math.min(next, ceiling);
      if (!Number.isFinite(target)) return;
      if (target > main.frontier) {
        for (const w of windows) w.reset(target, lookup);
        continue;
      }
    }
    for (const w of windows) w.advance(lookup);
    onSnapshot(main.frontier);
  }
}
