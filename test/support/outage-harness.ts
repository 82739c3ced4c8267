// Shared checks of the outage tests (a service restarted under `tidemark stream` and `tidemark
// archive`): a process either rides the outage out and stops cleanly, or exits with one
// structured line and the outage exit code — never a stack trace — and the archive ends exact.
import { expect } from 'vitest';
import type { Queryable } from '../../src/io/db/database.ts';
import type { Lake } from '../../src/io/lake/lake.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';
import { eventText, expectWellFormedArchive, readArchive, validEventTexts } from './archive-lake.ts';
import { waitFor } from './net.ts';
import type { CliResult, startCli } from './run-cli.ts';

export type CliRun = ReturnType<typeof startCli>;

/** stderr so far of a running CLI child (its own copy: CliResult only has it once the child exits). */
export function stderrOf(run: CliRun): () => string {
  let text = '';
  run.child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** Waits until the child's stderr matches, naming what was awaited and quoting the stderr on timeout. */
export async function waitForStderr(what: string, stderr: () => string, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  await waitFor(what, async () => (pattern.test(stderr()) ? true : undefined), timeoutMs, 100).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; stderr: ${stderr().slice(-3000)}`);
  });
}

/** Exit 0 after SIGTERM, no stack trace, no error-level line. */
export function expectCleanStop(name: string, result: CliResult): void {
  expect(result.code, `${name}: ${result.stderr.slice(-3000)}`).toBe(0);
  expect(result.stderr, name).not.toMatch(/^\s+at /m);
  expect(result.stderr.split('\n').filter((l) => l.includes('"level":"error"')), name).toEqual([]);
}

/** Exit `code` with exactly one line besides warnings: a structured error whose message matches. */
export function expectOneOutageLine(name: string, result: CliResult, code: number, message: RegExp): void {
  expect(result.code, `${name}: ${result.stderr.slice(-3000)}`).toBe(code);
  expect(result.stderr, name).not.toMatch(/^\s+at /m);
  const lines = result.stderr.split('\n').filter((l) => l !== '' && !l.includes('"level":"warn"'));
  expect(lines, name).toHaveLength(1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(entry['level'], name).toBe('error');
  expect(entry['error'], name).toMatch(message);
}

/** Every valid event of the suite in the lake exactly once, well formed, and no flush intent left. */
export async function expectExactArchive(lake: Lake, db: Queryable, suite: MartSuite): Promise<void> {
  const objects = await readArchive(lake);
  const rows = expectWellFormedArchive(objects, suite.settings.timeZone);
  expect(rows.length).toBe(suite.lines.length - suite.expected.deadLetters.length);
  expect(rows.map(eventText).sort()).toEqual(validEventTexts(suite.lines, suite.maxFutureSkewMs));
  expect((await db.query(`SELECT * FROM archive_intents`)).rows).toEqual([]);
}

/** The suite's lines as messages keyed by session, [from, to) of them (halves keep each partition's order). */
export function suiteMessages(suite: MartSuite, from = 0, to = suite.lines.length): { key: string | null; value: string }[] {
  return suite.lines.slice(from, to).map((value, i) => ({ key: suite.keys[from + i] ?? null, value }));
}
