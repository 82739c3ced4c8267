// Runs the real Superset installed by scripts/provision-superset.sh: its CLI (db upgrade,
// fab create-admin, import-dashboards) and its web server under gunicorn, as child processes.
// The server runs in its own process group so that stopping it also stops gunicorn's workers.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** SUPERSET_VENV as in scripts/provision-superset.sh. */
export const SUPERSET_VENV = process.env['SUPERSET_VENV'] ?? join(REPO, '.cache', 'superset-venv');
export const SUPERSET_CONFIG = join(REPO, 'superset', 'superset_config.py');

/** Why the pinned Superset cannot run here, or undefined when it can. */
export function supersetMissing(): string | undefined {
  const stamp = join(SUPERSET_VENV, '.tidemark-requirements');
  if (!existsSync(join(SUPERSET_VENV, 'bin', 'superset')) || !existsSync(stamp)) {
    return `Superset is not installed in ${SUPERSET_VENV}: run \`PROVISION_SUPERSET=1 bash scripts/provision.sh\``;
  }
  if (readFileSync(stamp, 'utf8') !== readFileSync(join(REPO, 'superset', 'requirements.txt'), 'utf8')) {
    return 'superset/requirements.txt changed since the last provisioning: run `bash scripts/provision-superset.sh`';
  }
  return undefined;
}

/** The environment every Superset process of one test instance shares. */
export function supersetEnv(home: string, secretKey: string): Record<string, string> {
  return {
    PATH: `${join(SUPERSET_VENV, 'bin')}:${process.env['PATH'] ?? ''}`,
    HOME: home,
    SUPERSET_HOME: home,
    SUPERSET_CONFIG_PATH: SUPERSET_CONFIG,
    SUPERSET_SECRET_KEY: secretKey,
    // Metadata in SQLite inside the temp dir: nothing shared with other runs.
    SUPERSET_DATABASE_URI: `sqlite:///${join(home, 'superset.db')}`,
    FLASK_APP: 'superset',
    // superset_config.py is imported from the repository: keep its bytecode out of the tree.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
  };
}

export interface SupersetCliResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `superset …`; rejects with the tail of its output when it fails. */
export function runSupersetCli(args: readonly string[], env: Record<string, string>, timeoutMs = 180_000): Promise<SupersetCliResult> {
  return new Promise((resolve, reject) => {
    execFile(join(SUPERSET_VENV, 'bin', 'superset'), args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`superset ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-4000)}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

export interface SupersetServer {
  readonly url: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

async function waitForHealth(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`superset exited before it was healthy:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`superset not healthy after ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
}

/**
 * gunicorn as Superset's production image runs it (threaded worker), one worker: the dashboard's
 * charts load in parallel through the threads.
 */
export async function startSupersetServer(env: Record<string, string>, logFile: string, timeoutMs = 120_000): Promise<SupersetServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(logFile);
  const child = spawn(
    join(SUPERSET_VENV, 'bin', 'gunicorn'),
    ['--bind', `127.0.0.1:${port}`, '--workers', '1', '--worker-class', 'gthread', '--threads', '8', '--timeout', '120', 'superset.app:create_app()'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
  try {
    await waitForHealth(url, child, logFile, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, logFile, stop };
}
