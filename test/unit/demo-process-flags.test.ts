// The demo's run-time WebAssembly flags must keep V8 from tiering a hot function up to TurboFan
// (set after V8 starts, a flag's implications are not applied, so this is checked, not assumed).
// Each case runs in its own Node process: V8 flags are process-wide.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const HELPER = new URL('../../src/cli/app/demo-process-flags.ts', import.meta.url).href;
const CALLS = 20_000_000;

/**
 * A module exporting f(x) = x + 1, called in chunks (yielding, so V8's background compiler can
 * finish a tier-up) until V8 has tiered it up to TurboFan or CALLS calls have been made.
 */
const PROBE = `
import { keepWebAssemblyOnLiftoff } from ${JSON.stringify(HELPER)};
if (process.argv.includes('flags')) keepWebAssemblyOnLiftoff();
const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, 3, 2, 1, 0,
  7, 5, 1, 1, 0x66, 0, 0, 0x0a, 9, 1, 7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b]);
const { instance } = await WebAssembly.instantiate(bytes);
const f = instance.exports.f;
let calls = 0;
while (calls < ${CALLS} && !%IsTurboFanFunction(f)) {
  for (let i = 0; i < 100000; i++) calls = f(calls);
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(JSON.stringify({ reachedLimit: calls >= ${CALLS}, liftoff: %IsLiftoffFunction(f), turbofan: %IsTurboFanFunction(f) }));
`;

async function probe(withFlags: boolean): Promise<unknown> {
  const args = ['--allow-natives-syntax', '--input-type=module', '-e', PROBE, ...(withFlags ? ['flags'] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args);
  return JSON.parse(stdout);
}

describe('keepWebAssemblyOnLiftoff', () => {
  it('without it, V8 tiers a hot WebAssembly function up to TurboFan (the probe can see a tier-up)', async () => {
    expect(await probe(false)).toEqual({ reachedLimit: false, liftoff: false, turbofan: true });
  });

  it('with it, set at run time, the same function stays on Liftoff through every call', async () => {
    expect(await probe(true)).toEqual({ reachedLimit: true, liftoff: true, turbofan: false });
  });
});
