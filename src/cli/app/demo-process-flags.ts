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

/** glibc's malloc arenas for the demo when the environment does not choose (see relaunchWithFewMallocArenas). */
export const DEMO_MALLOC_ARENA_MAX = '2';

/**
 * glibc's malloc gives threads that allocate at the same time arenas of their own (up to 8 per
 * core) and keeps what they freed; Node's threads (V8's background compilers and GC, libuv's
 * pool, the lake's Parquet readers) leave the demo's RSS ~110 MB higher than with two arenas
 * (BENCHMARKS.md). glibc reads MALLOC_ARENA_MAX only when the process starts, so the demo
 * executes itself again with it set: the same process (pid, process group, terminal), so Ctrl-C
 * and SIGTERM reach it as before. A value in the environment is kept as it is.
 */
export function relaunchWithFewMallocArenas(): void {
  if (process.env['MALLOC_ARENA_MAX'] !== undefined || process.platform !== 'linux' || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    MALLOC_ARENA_MAX: DEMO_MALLOC_ARENA_MAX,
  });
}
