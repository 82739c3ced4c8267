// The parts of a long-running tidemark process (stream, HTTP server, alert sender, and at merge
// the archive writer and the in-process scheduler) are started and stopped together: each runs
// until the shared signal aborts; the first one to fail stops the others and fails the process.
import { InputFileError } from '../../io/file/input-file.ts';
import type { Logger } from '../../io/log.ts';

export interface Component {
  readonly name: string;
  /**
   * Runs until signal aborts, then releases what it holds and resolves. Calls started() once it
   * is up (e.g. a server listens); the next component starts only then, so the console is
   * reachable before the stream's catch-up keeps the process busy.
   */
  run(signal: AbortSignal, started: () => void): Promise<void>;
}

export async function runComponents(components: readonly Component[], signal: AbortSignal, log: Logger): Promise<void> {
  const stopAll = new AbortController();
  const forward = (): void => stopAll.abort();
  signal.addEventListener('abort', forward, { once: true });
  if (signal.aborted) stopAll.abort();
  let failure: unknown;
  const running: Promise<void>[] = [];
  try {
    for (const component of components) {
      if (stopAll.signal.aborted) break;
      let started!: () => void;
      const up = new Promise<void>((resolve) => (started = resolve));
      const run = (async () => {
        try {
          await component.run(stopAll.signal, started);
          log.info('component stopped', { component: component.name });
        } catch (error) {
          // A bad input file is the user's to fix: the CLI prints it as its one line.
          if (!(error instanceof InputFileError)) log.error('component failed', { component: component.name, error: (error as Error).message });
          failure ??= error;
        } finally {
          // One part ending (or failing) ends the process: a demo without its stream is not a demo.
          stopAll.abort();
          started();
        }
      })();
      running.push(run);
      await up;
      log.info('component started', { component: component.name });
    }
    await Promise.all(running);
  } finally {
    signal.removeEventListener('abort', forward);
  }
  if (failure !== undefined) throw failure;
}

/** A component around a start/close pair, e.g. a server. */
export function startStopComponent(name: string, start: () => Promise<{ close(): Promise<void> }>): Component {
  return {
    name,
    async run(signal, started) {
      const running = await start();
      started();
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await running.close();
    },
  };
}
