// The demo's run-time WebAssembly flags must keep V8 from tiering a hot function up to TurboFan
// (set after V8 starts, a flag's implications are not applied, so this is checked, not assumed).
// Each case runs in its own Node process: V8 flags are process-wide.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A process that calls relaunchDemoProcess(args) and then reports the settings it runs with. */
const RELAUNCH_PROBE = `
import { relaunchDemoProcess } from ${JSON.stringify(HELPER)};
const pidBefore = process.env.PROBE_PID ?? String(process.pid);
process.env.PROBE_PID = pidBefore;
relaunchDemoProcess(process.argv.slice(2));
process.stdout.write(JSON.stringify({
  samePid: pidBefore === String(process.pid),
  flags: process.execArgv,
  args: process.argv.slice(2),
  malloc: [process.env.MALLOC_ARENA_MAX, process.env.MALLOC_MMAP_THRESHOLD_, process.env.MALLOC_TRIM_THRESHOLD_],
}));
`;

async function relaunchProbe(args: readonly string[], env: Record<string, string> = {}): Promise<unknown> {
  // A script file, not -e: the relaunch repeats the process's command line.
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-relaunch-'));
  try {
    const script = join(dir, 'probe.mjs');
    writeFileSync(script, RELAUNCH_PROBE);
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MALLOC_') && key !== 'TIDEMARK_DEMO_PROCESS'));
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], { env: { ...clean, ...env } });
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('relaunchDemoProcess', () => {
  it('restarts `demo` in the same process with the demo flags and malloc settings', async () => {
    expect(await relaunchProbe(['demo', '--x'])).toEqual({
      samePid: true,
      flags: ['--liftoff-only', '--optimize-for-size'],
      args: ['demo', '--x'],
      malloc: ['2', '65536', '1048576'],
    });
  });

  it('keeps a malloc setting the user gave', async () => {
    expect(await relaunchProbe(['demo'], { MALLOC_ARENA_MAX: '4' })).toMatchObject({ malloc: ['4', '65536', '1048576'] });
  });

  it('leaves every other command as it was started', async () => {
    expect(await relaunchProbe(['stream'])).toEqual({ samePid: true, flags: [], args: ['stream'], malloc: [null, null, null] });
  });
});
