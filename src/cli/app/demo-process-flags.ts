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
