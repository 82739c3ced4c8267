// A replay that could only discard or overwrite is refused with one line and exit 64, before it
// reads anything: a second file under a consumer that already finished a replay (every event
// would be late), and a second consumer writing over another consumer's hot marts. Resuming the
// same input stays allowed (and applies nothing twice).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-refusals-'));

function eventsFile(name: string, ids: string, count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(JSON.stringify({ event_id: `${ids}${i}`, event_ts: new Date(Date.UTC(2026, 0, 10, 10, 0, i)).toISOString(), session_id: `s${i % 7}`, document_id: i % 5, title: null, clinical_area: null }));
  }
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const a = eventsFile('a.jsonl', 'a', 40);
const b = eventsFile('b.jsonl', 'b', 30);

function env(home: string): Record<string, string> {
  return { TIDEMARK_HOME: join(dir, home), LOG_LEVEL: 'warn', MAX_FUTURE_SKEW: '1000d' };
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.includes('"level":"warn"'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('replay refusals', () => {
  it('refuses a second file under the default consumer after a first one finished', async () => {
    expect((await runCli(['replay', a], env('default'))).code).toBe(0);
    const second = await runCli(['replay', b], env('default'));
    expect(second.code).toBe(64);
    expect(oneLine(second.stderr)).toBe(
      `tidemark: ${b}: refused: consumer 'replay' already finished replaying file:${a}, so its watermark is final and every event of ${b} would only be counted late; ` +
        'replay into an empty database (DATABASE_URL, or another TIDEMARK_HOME), or replay all the inputs as one file',
    );
    // The same input again is a resume: allowed, nothing applied twice.
    const again = await runCli(['replay', a], env('default'));
    expect(again.code).toBe(0);
  });

  it('refuses a second consumer over another consumer\'s hot marts', async () => {
    expect((await runCli(['replay', a, '--consumer', 'one'], env('two-consumers'))).code).toBe(0);
    const second = await runCli(['replay', b, '--consumer', 'two'], env('two-consumers'));
    expect(second.code).toBe(64);
    expect(oneLine(second.stderr)).toBe(
      `tidemark: ${b}: refused: the hot marts hold the results of consumer 'one', and replaying as 'two' would overwrite the minutes they share; ` +
        'replay into an empty database (DATABASE_URL, or another TIDEMARK_HOME), or replay all the inputs as one file',
    );
  });
});
