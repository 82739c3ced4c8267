// The memory keeper's decision (PeakWatch) and the collection it runs (reclaimHeap): a reclaim is
// due only after RSS grew by the policy's margin past the least RSS seen since the last one, and
// not twice within the policy's gap; the collection returns a dropped peak to the system.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PeakWatch } from '../../src/cli/app/memory-keeper.ts';

const MB = 1024 * 1024;
const policy = { growthBytes: 64 * MB, minGapMs: 300_000 };

describe('PeakWatch', () => {
  it('is due once RSS has grown by the margin past the least seen', () => {
    const watch = new PeakWatch(500 * MB, policy);
    expect(watch.due(540 * MB, 1_000)).toBe(false);
    // The floor follows RSS down: growth is measured from 450, not from 500.
    expect(watch.due(450 * MB, 2_000)).toBe(false);
    expect(watch.due(513 * MB, 3_000)).toBe(false);
    expect(watch.due(514 * MB, 4_000)).toBe(true);
  });

  it('measures from what the last reclaim left, and waits out the gap after it', () => {
    const watch = new PeakWatch(400 * MB, policy);
    expect(watch.due(1_800 * MB, 10_000)).toBe(true);
    watch.reclaimed(520 * MB, 10_000);
    expect(watch.due(600 * MB, 20_000)).toBe(false);
    expect(watch.due(900 * MB, 309_999)).toBe(false);
    expect(watch.due(900 * MB, 310_000)).toBe(true);
  });
});

/** A process that holds ~300 MB of objects, drops them, runs a plain full collection, then reclaimHeap. */
const PROBE = `
import { reclaimHeap } from ${JSON.stringify(new URL('../../src/io/heap-reclaim.ts', import.meta.url).href)};
let held = [];
for (let i = 0; i < 3_000_000; i++) held.push({ i, text: 'x' + i });
held = null;
globalThis.gc();
const r = reclaimHeap();
process.stdout.write(JSON.stringify({ returnedMb: Math.round((r.rssBeforeBytes - r.rssAfterBytes) / ${MB}) }));
`;

describe('reclaimHeap', () => {
  it('returns the pages of a dropped peak that a plain full collection keeps', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE]);
    const { returnedMb } = JSON.parse(stdout) as { returnedMb: number };
    expect(returnedMb).toBeGreaterThan(100);
  });
});
