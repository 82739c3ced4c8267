// What every `tidemark` sub-command looks like, and the small helpers they share: flag parsing
// that turns a bad flag into a usage error (one line, exit 64) instead of a stack trace.
import { parseArgs } from 'node:util';

export interface Command {
  /** One line for `tidemark --help`. */
  readonly summary: string;
  /** The full text for `tidemark <command> --help`. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A mistake in the command line; main prints it with the command's usage and exits 64. */
export class UsageError extends Error {}

export function parseFlags(args: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The process cannot start (a service is unreachable, a port taken); main prints one line and exits 69. */
export class StartupError extends Error {}
