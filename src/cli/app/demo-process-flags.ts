// Process-level settings of the embedded demo (`npm start`, `tidemark demo`), applied from the
// demo command itself so that the package script and the bin launcher get the same. Only the
// demo: the stream and worker launchers keep their own flags (BENCHMARKS.md, "Embedded demo").
import { setFlagsFromString } from 'node:v8';

/**
 * WebAssembly stays on its first, baseline (Liftoff) code: no optimizing (TurboFan) tier-up.
 * PGlite is PostgreSQL compiled to one large WebAssembly module; V8 recompiles its hot functions
 * with TurboFan, and that code costs ~100 MB of RSS for as long as the process lives. Measured on
 * the demo, the catch-up of a day of traffic took as long without it (BENCHMARKS.md).
 * These are the two flags that `--liftoff-only` implies: set at run time, V8 does not derive a
 * flag's implications, so `--liftoff-only` alone would change nothing here.
 */
export const LIFTOFF_ONLY_FLAGS = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering'] as const;

/** Before the first WebAssembly module that should stay on Liftoff is compiled (PGlite's: at its open). */
export function keepWebAssemblyOnLiftoff(): void {
  for (const flag of LIFTOFF_ONLY_FLAGS) setFlagsFromString(flag);
}

/**
 * Node and V8 flags of the demo process, given at its start (the launchers relaunch the demo with
 * them, relaunchDemoProcess): `--liftoff-only` (above) and `--optimize-for-size`, under which V8
 * grows its heap by at most ~1.3× what the last full collection kept instead of up to ~4×. The
 * demo keeps ~200 MB of exact window state and makes garbage all day long, so without it the heap
 * sat at 500–800 MB between collections (BENCHMARKS.md, "Embedded demo").
 */
export const DEMO_NODE_FLAGS = ['--liftoff-only', '--optimize-for-size'] as const;

/**
 * glibc malloc settings of the demo process: large blocks (query results, Parquet pages, typed
 * arrays) are mapped and unmapped on their own instead of staying in the heap after they are
 * freed, the heap's free top is returned early, and two arenas instead of one per thread. After
 * the daily flow, glibc's heap kept 318 MB without them and 79–110 MB with them. A value the
 * user set wins.
 */
export const DEMO_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '1048576',
};

/** Set in the relaunched demo process, so that it does not relaunch again. */
const RELAUNCHED_MARK = 'TIDEMARK_DEMO_PROCESS';

/**
 * Called by the launchers before anything else: for `demo`, replaces this process (same pid, same
 * stdio and signals; execve(2)) with one that has DEMO_NODE_FLAGS and DEMO_MALLOC_ENV, which only
 * count when given at a process's start. Elsewhere (another command, an in-process caller such as
 * a test or a benchmark, a platform without execve) it does nothing and the demo runs as it is.
 */
export function relaunchDemoProcess(args: readonly string[]): void {
  if (args[0] !== 'demo' || process.env[RELAUNCHED_MARK] !== undefined) return;
  if (process.platform !== 'linux' || process.execve === undefined) return;
  const missing = DEMO_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], {
    ...DEMO_MALLOC_ENV,
    ...process.env,
    [RELAUNCHED_MARK]: '1',
  });
}
