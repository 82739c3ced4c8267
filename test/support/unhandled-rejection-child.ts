// A process shaped like a long-running tidemark command (components stopped by SIGTERM) in
// which a promise is rejected with no handler, for test/integration/fatal-errors.test.ts.
import { runComponents } from '../../src/cli/app/components.ts';
import { EXIT_INTERNAL_ERROR, installFatalErrorHandlers } from '../../src/cli/fatal-errors.ts';
import { createLogger } from '../../src/io/log.ts';

const fatal = installFatalErrorHandlers();
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
await runComponents(
  [
    {
      name: 'worker',
      run: async (signal, started) => {
        started();
        void Promise.reject(new Error(process.argv[2] ?? 'boom'));
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        process.stdout.write('worker stopped cleanly\n');
      },
    },
  ],
  stop.signal,
  createLogger('error'),
);
process.exitCode = fatal.failed() ? EXIT_INTERNAL_ERROR : 0;
