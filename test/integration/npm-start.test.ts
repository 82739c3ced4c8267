// `npm start` as a user runs it in a terminal: Ctrl-C goes to the whole foreground process group
// (npm, its shell and the demo), and npm forwards it once more to the demo. The demo finishes the
// work in flight and npm exits 0, as the README promises: the start script execs node (a shell
// left in between would die of the SIGINT itself, and npm with it), and the demo keeps its
// handler for the second SIGINT.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/net.ts';
import { runCli } from '../support/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start', () => {
  it('exits 0 on Ctrl-C; meanwhile `tidemark status` asks it over HTTP', { timeout: 180_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'tidemark-npm-start-'));
    const port = String(await freePort());
    // Its own process group, like a terminal's foreground job.
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, HOME: home, TIDEMARK_HOME: home, PORT: port, DEMO_BACKFILL: '2m', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    let gone = false;
    const exited = new Promise<string>((resolve) =>
      child.on('exit', (code, signal) => {
        gone = true;
        resolve(signal === null ? `code ${String(code)}` : `signal ${signal}`);
      }),
    );
    try {
      await waitFor('the demo to serve its console', async () => (output.includes('console on http://localhost:') ? true : undefined), 150_000);
      // The demo holds the embedded database: status reads the same screen from the demo's API.
      await waitFor(
        'the demo to commit a checkpoint',
        async () => {
          const body = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { consumers: unknown[]; archive: unknown[] };
          return body.consumers.length > 0 ? true : undefined;
        },
        120_000,
      );
      const status = await runCli(['status', '--json'], { TIDEMARK_HOME: home, PORT: port });
      expect(status.code, status.stderr).toBe(0);
      const body = JSON.parse(status.stdout) as { consumers: { consumer: string }[]; archive: { consumer: string }[] };
      expect(body.consumers.map((c) => c.consumer)).toEqual(['demo']);
      // The same screen as the demo's own /api/status: the archive panel's data is there too.
      expect(Array.isArray(body.archive)).toBe(true);
      const text = await runCli(['status'], { TIDEMARK_HOME: home, PORT: port });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^tidemark status at \S+\n\nStream consumers\n {2}demo: /);
      process.kill(-(child.pid as number), 'SIGINT');
      // Killed by its own SIGINT (a shell between npm and node re-raising it) would read "signal SIGINT": a shell prints 130.
      expect(await exited, output.slice(-2000)).toBe('code 0');
    } finally {
      if (!gone) process.kill(-(child.pid as number), 'SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  });
});
