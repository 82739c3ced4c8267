// A promise rejected with no handler, or an exception thrown where nothing catches it, is a
// defect: Node's default (a stack trace on stderr, exit 1 at once) would cut a batch in the middle
// of its work and dump whatever the error quotes. Instead the process logs one structured line,
// stops the way SIGTERM stops it (the batch in flight finishes or rolls back; nothing partial is
// committed, since every batch is one transaction) and exits non-zero.
import { createLogger } from '../io/log.ts';

/** sysexits(3) EX_SOFTWARE: an internal error. */
export const EXIT_INTERNAL_ERROR = 70;

export interface FatalErrorHandlers {
  /** True once an unhandled rejection or uncaught exception was seen: the exit code is then 70. */
  failed(): boolean;
  uninstall(): void;
}

export function installFatalErrorHandlers(options: { readonly graceMs?: number } = {}): FatalErrorHandlers {
  const log = createLogger('error');
  let failed = false;
  const fatal = (kind: string) => (reason: unknown): void => {
    if (failed) return;
    failed = true;
    process.exitCode = EXIT_INTERNAL_ERROR;
    const message = reason instanceof Error ? reason.message : String(reason);
    log.error(kind, { error: message.replace(/\s+/g, ' ').slice(0, 500), shutdown: 'as on SIGTERM', exit_code: EXIT_INTERNAL_ERROR });
    // Commands that run until stopped listen for SIGTERM; a short command has nothing to stop.
    if (process.listenerCount('SIGTERM') === 0) process.exit(EXIT_INTERNAL_ERROR);
    process.emit('SIGTERM', 'SIGTERM');
    // A shutdown that itself hangs must not keep a broken process alive.
    setTimeout(() => process.exit(EXIT_INTERNAL_ERROR), options.graceMs ?? 30_000).unref();
  };
  const onRejection = fatal('unhandled promise rejection');
  const onException = fatal('uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    failed: () => failed,
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
