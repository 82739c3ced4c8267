// Redis for tests: the shared server (TEST_REDIS_URL), and private redis-server processes for
// tests that must stop, restart or misconfigure Redis without disturbing anyone else.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';

export function testRedisUrl(): string {
  const url = process.env['TEST_REDIS_URL']?.trim();
  if (url === undefined || url === '') throw new Error('TEST_REDIS_URL is not set: source the services env first');
  return url;
}

export interface PrivateRedis {
  readonly url: string;
  /** SIGKILL: no shutdown save, as after a crash (the AOF keeps what was acknowledged). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** A redis-server of our own; `extraArgs` e.g. ['--rename-command', 'CONFIG', ''] to disable CONFIG. */
export async function startPrivateRedis(policy = 'noeviction', extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--maxmemory-policy', policy, '--dir', dir, '--save', '', ...extraArgs],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // Loading the AOF answers LOADING until done.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      } finally {
        probe.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child as ChildProcess | null;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    url,
    kill: () => stop('SIGKILL'),
    restart: launch,
    dispose: async () => {
      await stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
