// A Java server a test runs as its own child process (a private Kafka broker, a private
// s3proxy): started and waited for until it answers, stopped with SIGTERM (an orderly shutdown)
// or SIGKILL (a crash), and started again with the same arguments, so the same port and data.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { waitFor } from './net.ts';

export const JAVA = process.env['JAVA'] ?? 'java';

export interface JavaService {
  start(): Promise<void>;
  stop(mode?: 'graceful' | 'kill'): Promise<void>;
}

/** Whether a provisioned artifact is here; under CI its absence is an error, not a skip. */
export function provisioned(path: string): boolean {
  if (existsSync(path)) return true;
  const ci = process.env['CI'];
  if (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') throw new Error(`${path} is missing under CI: run scripts/provision.sh`);
  return false;
}

/** Output goes to logFile; `ready` answers true once the server serves requests (a throw counts as "not yet"). */
export function javaService(options: { what: string; args: readonly string[]; logFile: string; ready: () => Promise<true | undefined>; timeoutMs: number }): JavaService {
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  return {
    async start() {
      if (child !== null) throw new Error(`${options.what} is already running`);
      const out = openSync(options.logFile, 'a');
      const started = spawn(JAVA, [...options.args], { stdio: ['ignore', out, out] });
      closeSync(out);
      child = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      let gone = false;
      void exited.then(() => (gone = true));
      const probe = async (): Promise<true | undefined> => {
        if (gone) throw new Error('exited');
        return options.ready();
      };
      await waitFor(options.what, probe, options.timeoutMs, 250).catch(async (error: unknown) => {
        const tail = (await readFile(options.logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
        throw new Error(`${(error as Error).message}${gone ? ' (it exited)' : ''}; its log:\n${tail}`);
      });
    },
    async stop(mode = 'graceful') {
      const running = child;
      if (running === null) return;
      running.kill(mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await exited;
      child = null;
    },
  };
}
