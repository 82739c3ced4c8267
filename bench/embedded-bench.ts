// Embedded benchmark: `tidemark demo` (PGlite, local lake, the generator at its default rate) run
// for a while after its catch-up; how fast its data folder grows (lake excluded), extrapolated to
// a day, and its resident memory. Prints a Markdown table; BENCHMARKS.md keeps the latest.
//
//   npm run bench:embedded -- [--minutes 20]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '20' } } });
const MINUTES = Number(values.minutes);
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'tidemark-embedded-bench-'));

function folderBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function heapUsedMb(port: number): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const match = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return match === null ? null : Number(match[1]) / 2 ** 20;
  } catch {
    return null;
  }
}

async function consumerLag(port: number): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const match = /^tidemark_consumer_lag_messages(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const port = await freePort();
const demo = spawn(process.execPath, [cli, 'demo'], {
  cwd: home,
  env: { PATH: process.env['PATH'] ?? '', TIDEMARK_HOME: join(home, 'home'), PORT: String(port), LOG_LEVEL: 'error' },
  stdio: 'ignore',
});
const dbDir = join(home, 'home', 'db');
const started = Date.now();
let caughtUpAt: number;
for (;;) {
  const lag = await consumerLag(port);
  if (lag !== null && lag <= 200) {
    caughtUpAt = Date.now();
    break;
  }
  if (Date.now() - started > 15 * 60_000) throw new Error('the demo did not catch up within 15 minutes');
  await sleep(2000);
}
const catchUpS = (caughtUpAt - started) / 1000;
// Let the first maintenance pass (vacuum, checkpoint) run before the reference size is taken.
await sleep(150_000);
const from = Date.now();
const sizeFrom = folderBytes(dbDir);
const walFrom = folderBytes(join(dbDir, 'pg_wal'));
let peakRss = 0;
const samples: number[] = [];
const heap: number[] = [];
while (Date.now() - from < MINUTES * 60_000) {
  const rss = rssMb(demo.pid!);
  peakRss = Math.max(peakRss, rss);
  samples.push(rss);
  const used = await heapUsedMb(port);
  if (used !== null) heap.push(used);
  await sleep(5000);
}
const sizeTo = folderBytes(dbDir);
const walTo = folderBytes(join(dbDir, 'pg_wal'));
const minutes = (Date.now() - from) / 60_000;
demo.kill('SIGTERM');
await new Promise((r) => demo.on('exit', r));
// Where the space is: the largest tables of the stopped demo's database.
const db = await PGlite.create({ dataDir: dbDir });
const largest = await db.query<{ name: string; kb: number }>(
  `SELECT relname AS name, (pg_total_relation_size(oid) / 1024)::int AS kb FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 6`,
);
await db.close();
rmSync(home, { recursive: true, force: true });

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const rows: [string, string][] = [
  ['embedded: start → caught up, s', catchUpS.toFixed(0)],
  ['embedded: data folder after catch-up + 2.5 min, MB', mb(sizeFrom)],
  [`embedded: data folder after ${minutes.toFixed(0)} more minutes, MB`, mb(sizeTo)],
  ['embedded: data folder growth, MB per day (extrapolated)', mb(((sizeTo - sizeFrom) / minutes) * 1440)],
  ['embedded: of which the WAL (bounded by max_wal_size), MB before / after', `${mb(walFrom)} / ${mb(walTo)}`],
  ['embedded: largest tables at the end, MB', largest.rows.map((r) => `${r.name} ${(r.kb / 1024).toFixed(1)}`).join(', ')],
  ['embedded: JS heap used, median MB', heap.length === 0 ? 'n/a' : heap.sort((a, b) => a - b)[Math.floor(heap.length / 2)]!.toFixed(0)],
  ['embedded: RSS after catch-up, median / peak MB', `${samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!.toFixed(0)} / ${peakRss.toFixed(0)}`],
];
process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\nCommand: npm run bench:embedded -- --minutes ${MINUTES}\n`);
process.exit(0);
