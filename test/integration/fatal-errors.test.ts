// An unhandled promise rejection is logged as one structured line; the process then stops the
// way SIGTERM stops it (its components finish) and exits 70, never with Node's stack trace.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/unhandled-rejection-child.ts', import.meta.url));

describe('an unhandled promise rejection', () => {
  it('logs one structured line, shuts down cleanly and exits 70', async () => {
    const child = spawn(process.execPath, [CHILD, 'lost connection\n    at somewhere (file.ts:1:1)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(70);
    expect(stdout).toBe('worker stopped cleanly\n');
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect({ ...entry, ts: undefined }).toEqual({
      ts: undefined,
      level: 'error',
      msg: 'unhandled promise rejection',
      error: 'lost connection at somewhere (file.ts:1:1)',
      shutdown: 'as on SIGTERM',
      exit_code: 70,
    });
  });
});
