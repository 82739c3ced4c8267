// Embedded benchmark: `tidemark demo` (PGlite, local lake, the generator at its default rate).
// Two modes; each prints a Markdown table, and BENCHMARKS.md keeps the latest.
//
//   npm run bench:embedded -- [--minutes 20]   the demo process itself, run for a while after its
//       catch-up in real time: how fast its data folder grows (lake excluded), extrapolated to a
//       day, and its resident memory.
//   npm run bench:embedded -- --days 3         days of the demo's traffic in far less wall time,
//       in this process: the demo's stream and archive writer over the demo's generator, whose
//       clock jumps a day ahead at a time (each day then arrives as a catch-up, as after an
//       outage), and at each day boundary the daily trigger's work (the daily flow for the day
//       just ended, then retention) with that clock. The data folder, per table, after each day
//       shows what a day of traffic adds once the windows are full.
//   npm run bench:embedded -- --days 2 --minutes 20   the steady state: the days mode on a fresh
//       home (its generator clock ends about a day before now), then the real `tidemark demo`
//       process on that same home. The demo resumes the generator from its stored parameters
//       and checkpoints, catches up the day to now, runs yesterday's daily flow from its
//       scheduler once caught up; after that flow and 2.5 minutes of maintenance, MINUTES of
//       live traffic with full windows: folder growth (WAL apart), memory, and what each table
//       gained. Use --keep to keep the home.
//   npm run bench:embedded -- --home DIR --minutes 20   the steady state again on a copy of a home
//       that `--days N --keep` left (the days are not rerun).
//   Minutes modes also take --node-flags='<node/V8 flags>' and --env KEY=VALUE (repeatable) for
//   the demo process: the A/B runs of its process settings in BENCHMARKS.md. The demo relaunches
//   itself with its own settings (src/cli/app/demo-process-flags.ts) unless
//   --env TIDEMARK_DEMO_PROCESS=1 is given. The demo's log is kept in the home as demo.log.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';
import { wasmMemory as parquetWasmMemory } from 'parquet-wasm';
import { DEMO_ARCHIVE_CONSUMER, DEMO_CONSUMER, liveDemoSource } from '../src/cli/app/demo-feed.ts';
import type { LiveParams } from '../src/cli/app/demo-feed.ts';
import { archiveComponent } from '../src/cli/app/archive-component.ts';
import { openConfiguredDatabase } from '../src/cli/app/open-database.ts';
import { streamSettings } from '../src/cli/commands/stream-commands.ts';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/io/db/database.ts';
import type { PgliteDatabase } from '../src/io/db/pglite-database.ts';
import { openLake } from '../src/io/lake/open-lake.ts';
import { createLogger } from '../src/io/log.ts';
import { runStream } from '../src/io/stream-runner.ts';
import { DayStepNotReadyError } from '../src/jobs/day-step.ts';
import { createDaySteps } from '../src/jobs/day-steps/create-day-steps.ts';
import { runAuditedRetention } from '../src/jobs/retention-job.ts';
import { yesterdayIn } from '../src/io/queue/daily-time.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    days: { type: 'string' },
    keep: { type: 'boolean' },
    // The steady state again on a copy of a home that `--days N --keep` left (the days are not rerun).
    home: { type: 'string' },
    // For A/B runs of process-level settings: Node/V8 flags before the demo's script, and
    // environment variables (KEY=VALUE, e.g. MALLOC_ARENA_MAX=2) for the demo process.
    'node-flags': { type: 'string', default: '' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const NODE_FLAGS = values['node-flags'].split(/\s+/).filter((f) => f !== '');
const EXTRA_ENV = Object.fromEntries(
  values.env.map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--env ${pair}: expected KEY=VALUE`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const MINUTES = Number(values.minutes ?? '20');
const DAYS = values.days === undefined ? undefined : Number(values.days);
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

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

/** A gauge of the demo's /metrics (unlabelled, or its first labelled series), or null. */
async function metric(port: number, name: string): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

const MB = 2 ** 20;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The largest tables of a database, heap + indexes + TOAST, in kB. */
const LARGEST_TABLES_SQL = `SELECT relname AS name, (pg_total_relation_size(oid) / 1024)::int AS kb FROM pg_class
  WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC, 1`;


/** The daily flow's run as the API shows it: its outcome, or null while there is no such run. */
async function runOutcome(port: number, runId: string): Promise<string | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/job-run?id=${encodeURIComponent(runId)}`);
    if (response.status !== 200) return null;
    const body = (await response.json()) as { run: { outcome: string } };
    return body.run.outcome;
  } catch {
    return null;
  }
}

/**
 * Bytes per relation file of a stopped or running PostgreSQL data folder, by the path
 * pg_relation_filepath gives (base/<db>/<filenode>), with its forks and segments added in.
 */
function relationFileBytes(dataDir: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const base = join(dataDir, 'base');
  for (const db of readdirSync(base)) {
    for (const file of readdirSync(join(base, db))) {
      const node = /^(\d+)(?:_(?:fsm|vm|init))?(?:\.\d+)?$/.exec(file)?.[1];
      if (node === undefined) continue;
      const key = `base/${db}/${node}`;
      sizes.set(key, (sizes.get(key) ?? 0) + statSync(join(base, db, file)).size);
    }
  }
  return sizes;
}

/** Each file of a public table, its TOAST table and their indexes, with the table's name. */
const RELATION_FILES_SQL = `WITH owners AS (
    SELECT c.oid, c.oid AS tbl FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT c.reltoastrelid, c.oid FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.reltoastrelid <> 0
  ), rels AS (
    SELECT oid, tbl FROM owners
    UNION ALL
    SELECT i.indexrelid, o.tbl FROM pg_index i JOIN owners o ON o.oid = i.indrelid
  )
  SELECT pg_relation_filepath(r.oid) AS file, t.relname AS name FROM rels r JOIN pg_class t ON t.oid = r.tbl`;

/** Where the demo runs: a fresh home (the minutes mode), or the home the days mode left (steady state). */
interface RealTimeHome {
  readonly path: string;
  readonly fresh: boolean;
}

/** `tidemark demo` as a process, real time: folder growth over MINUTES after the catch-up, and memory. */
async function realTime(at: RealTimeHome): Promise<void> {
  const home = at.path;
  const port = await freePort();
  // A fresh home keeps the demo's files in a subfolder; the days mode's home is TIDEMARK_HOME itself.
  const tidemarkHome = at.fresh ? join(home, 'home') : home;
  // The demo's log (its catch-up, the daily flow, memory reclaims) is kept beside its home.
  const demoLog = openSync(join(home, 'demo.log'), 'a');
  const demo = spawn(process.execPath, [...NODE_FLAGS, cli, 'demo'], {
    cwd: home,
    env: { PATH: process.env['PATH'] ?? '', TIDEMARK_HOME: tidemarkHome, PORT: String(port), LOG_LEVEL: 'info', ...EXTRA_ENV },
    stdio: ['ignore', demoLog, demoLog],
  });
  const config = loadConfig({ TIDEMARK_HOME: tidemarkHome, LOG_LEVEL: 'error' }, { cwd: home });
  const dbDir = config.database.embeddedDir;
  const started = Date.now();
  let caughtUpAt: number;
  // The steady-state home starts a day behind: its catch-up is a day of traffic, as after an outage.
  const catchUpLimitMin = at.fresh ? 15 : 60;
  for (;;) {
    const lag = await metric(port, 'tidemark_consumer_lag_messages');
    if (lag !== null && lag <= 200) {
      caughtUpAt = Date.now();
      break;
    }
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}) before catching up`);
    if (Date.now() - started > catchUpLimitMin * 60_000) throw new Error(`the demo did not catch up within ${catchUpLimitMin} minutes`);
    await sleep(2000);
  }
  const catchUpS = (caughtUpAt - started) / 1000;
  // On a home with history, the scheduler starts yesterday's daily flow once caught up: wait for
  // it to end, so that the minutes below are live traffic only (its writes are a day's, not a minute's).
  let dailyS: number | undefined;
  if (!at.fresh) {
    const runId = `daily-${yesterdayIn(Date.now(), config.marts.timeZone)}`;
    for (;;) {
      const outcome = await runOutcome(port, runId);
      if (outcome !== null && outcome !== 'running') {
        if (outcome !== 'succeeded') throw new Error(`${runId}: ${outcome}`);
        break;
      }
      if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}) during ${runId}`);
      if (Date.now() - caughtUpAt > 60 * 60_000) throw new Error(`${runId} did not end within an hour of the catch-up`);
      await sleep(2000);
    }
    dailyS = (Date.now() - caughtUpAt) / 1000;
  }
  // Let the first maintenance passes (vacuum, checkpoint) run before the reference size is taken.
  await sleep(150_000);
  const from = Date.now();
  const batchesFrom = await metric(port, 'tidemark_batch_duration_seconds_count');
  const sizeFrom = folderBytes(dbDir);
  const walFrom = folderBytes(join(dbDir, 'pg_wal'));
  const filesFrom = relationFileBytes(dbDir);
  const rss: number[] = [];
  const heap: number[] = [];
  const heapTotal: number[] = [];
  const external: number[] = [];
  const wasm: number[] = [];
  while (Date.now() - from < MINUTES * 60_000) {
    rss.push(rssMb(demo.pid!));
    const used = await metric(port, 'nodejs_heap_size_used_bytes');
    if (used !== null) heap.push(used / MB);
    const total = await metric(port, 'nodejs_heap_size_total_bytes');
    if (total !== null) heapTotal.push(total / MB);
    const outside = await metric(port, 'nodejs_external_memory_bytes');
    if (outside !== null) external.push(outside / MB);
    const db = await metric(port, 'tidemark_embedded_db_memory_bytes');
    if (db !== null) wasm.push(db / MB);
    await sleep(5000);
  }
  const sizeTo = folderBytes(dbDir);
  const walTo = folderBytes(join(dbDir, 'pg_wal'));
  const filesTo = relationFileBytes(dbDir);
  const batchesTo = await metric(port, 'tidemark_batch_duration_seconds_count');
  const minutes = (Date.now() - from) / 60_000;
  demo.kill('SIGTERM');
  await new Promise((r) => demo.on('exit', r));
  // Where the space is: the largest tables of the stopped demo's database, and (steady state)
  // what each table's files gained over the minutes, mapped to tables by the stopped database.
  const db = await PGlite.create({ dataDir: dbDir });
  const largest = await db.query<{ name: string; kb: number }>(`${LARGEST_TABLES_SQL} LIMIT 6`);
  const files = await db.query<{ file: string; name: string }>(RELATION_FILES_SQL);
  await db.close();
  if (values.keep === true) process.stderr.write(`kept ${home}\n`);
  else rmSync(home, { recursive: true, force: true });
  const tableOf = new Map(files.rows.map((r) => [r.file, r.name]));
  const growth = new Map<string, number>();
  for (const file of new Set([...filesFrom.keys(), ...filesTo.keys()])) {
    // A file gone by the end was rewritten or dropped (VACUUM FULL, TRUNCATE): not mapped to a table.
    const name = tableOf.get(file) ?? '(files rewritten or dropped)';
    growth.set(name, (growth.get(name) ?? 0) + (filesTo.get(file) ?? 0) - (filesFrom.get(file) ?? 0));
  }
  const growers = [...growth].filter(([, bytes]) => Math.abs(bytes) >= 64 * 1024).sort((a, b) => b[1] - a[1]);

  const rows: [string, string][] = [
    ['embedded: start → caught up, s', catchUpS.toFixed(0)],
    ...(dailyS === undefined ? [] : [["embedded: caught up → yesterday's daily flow (start-up run) ended, s", dailyS.toFixed(0)] as [string, string]]),
    [`embedded: data folder after ${at.fresh ? 'catch-up' : 'the daily flow'} + 2.5 min, MB`, mb(sizeFrom)],
    [`embedded: data folder after ${minutes.toFixed(0)} more minutes, MB`, mb(sizeTo)],
    ['embedded: data folder growth, MB per day (extrapolated)', mb(((sizeTo - sizeFrom) / minutes) * 1440)],
    ['embedded: of which the WAL, MB before / after', `${mb(walFrom)} / ${mb(walTo)}`],
    ['embedded: largest tables at the end, MB', largest.rows.map((r) => `${r.name} ${(r.kb / 1024).toFixed(1)}`).join(', ')],
    [
      `embedded: per-table growth in the ${minutes.toFixed(0)} minutes, MB (× ${(1440 / minutes).toFixed(0)} for a day)`,
      growers.length === 0 ? 'none ≥ 0.1 MB' : growers.map(([name, bytes]) => `${name} ${mb(bytes)}`).join(', '),
    ],
    // Housekeeping counts committed batches: how many live traffic makes.
    ['embedded: committed batches per second', batchesFrom === null || batchesTo === null ? 'n/a' : ((batchesTo - batchesFrom) / (minutes * 60)).toFixed(1)],
    ['embedded: JS heap used, median MB', heap.length === 0 ? 'n/a' : median(heap).toFixed(0)],
    ['embedded: JS heap total / external, median MB', heapTotal.length === 0 ? 'n/a' : `${median(heapTotal).toFixed(0)} / ${median(external).toFixed(0)}`],
    ['embedded: PGlite WebAssembly memory, max MB', wasm.length === 0 ? 'n/a' : Math.max(...wasm).toFixed(0)],
    ['embedded: RSS after catch-up, median / peak MB', `${median(rss).toFixed(0)} / ${Math.max(...rss).toFixed(0)}`],
  ];
  process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\nCommand: npm run bench:embedded --${at.fresh ? '' : values.home !== undefined ? ' --home <a home kept by --days N --keep>' : ` --days ${DAYS}`} --minutes ${MINUTES}${NODE_FLAGS.length === 0 ? '' : ` --node-flags='${NODE_FLAGS.join(' ')}'`}${values.env.map((e) => ` --env ${e}`).join('')}\n`);
}

const DAY_MS = 86_400_000;

interface DayFigures {
  readonly date: string;
  readonly catchUpS: number;
  readonly flowS: number;
  readonly folder: number;
  readonly wal: number;
  readonly tables: ReadonlyMap<string, number>;
  readonly rssMb: number;
  /** The day's largest values (sampled every second) of RSS and of its parts. */
  readonly peak: Memory;
  readonly heapMb: number;
  /** V8's heap after a full garbage collection: what the demo holds, not what it is working on. */
  readonly retainedHeapMb: number;
  readonly wasmMb: number;
  readonly events: number;
}

// A full collection on demand, to tell the state a process keeps from the garbage it has not collected yet.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** MB: resident, V8's heap (total), ArrayBuffers outside it, PGlite's and parquet-wasm's WebAssembly memories. */
interface Memory {
  rss: number;
  heap: number;
  buffers: number;
  pglite: number;
  parquet: number;
}

/**
 * Days of the demo's traffic: its stream and archive writer (the demo's own components and
 * settings, PGlite in a fresh home) over its generator with a clock that jumps to 20 minutes
 * past the next midnight (so the stream's watermark, 10 minutes behind, passes it) and then runs
 * at wall speed; at each boundary the daily trigger's work for the day that ended, with that clock.
 */
async function days(count: number, home: string, keepHome: boolean): Promise<void> {
  const config = loadConfig({ TIDEMARK_HOME: home, LOG_LEVEL: 'error' }, { cwd: home });
  const log = createLogger('error', { component: 'bench' });
  const db: Database = await openConfiguredDatabase(config);
  const embedded = db as Database & Partial<Pick<PgliteDatabase, 'wasmMemoryBytes'>>;
  // The whole run lies in the past (UTC days, MART_TIMEZONE's default), so no event is ahead of the wall clock.
  const firstDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - (count + 1) * DAY_MS;
  const params: LiveParams = {
    startMs: firstDay - DAY_MS,
    historyMs: firstDay,
    seed: 12,
    rate: config.generator.eventsPerSecond,
    anomalyEveryMs: config.generator.anomalyEveryMs,
  };
  let simAt = firstDay;
  let wallAt = Date.now();
  const clock = (): number => simAt + (Date.now() - wallAt);
  const setClock = (ms: number): void => {
    simAt = ms;
    wallAt = Date.now();
  };

  const zero = (): Memory => ({ rss: 0, heap: 0, buffers: 0, pglite: 0, parquet: 0 });
  let peak = zero();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    const now: Memory = {
      rss: m.rss / MB,
      heap: m.heapTotal / MB,
      buffers: m.arrayBuffers / MB,
      pglite: (embedded.wasmMemoryBytes?.() ?? 0) / MB,
      parquet: parquetWasmMemory().buffer.byteLength / MB,
    };
    for (const key of Object.keys(now) as (keyof Memory)[]) peak[key] = Math.max(peak[key], now[key]);
  }, 1000);
  const stop = new AbortController();
  const source = liveDemoSource(params, clock);
  let committed = 0;
  let failure: unknown;
  const fail = (error: unknown): void => {
    failure ??= error;
  };
  const stream = runStream({
    db,
    source,
    consumer: DEMO_CONSUMER,
    settings: streamSettings(config),
    batchMaxMessages: config.stream.batchMaxMessages,
    batchMaxWaitMs: config.stream.batchMaxWaitMs,
    batchMinIntervalMs: config.stream.batchMinIntervalMs,
    log,
    signal: stop.signal,
    onCommit: (batch) => {
      for (const p of batch.partitions) committed = Math.max(committed, Number(p.nextOffset));
    },
  }).catch(fail);
  const archive = archiveComponent({ config, db, source: () => liveDemoSource(params, clock), consumer: DEMO_ARCHIVE_CONSUMER, log })
    .run(stop.signal, () => undefined)
    .catch(fail);
  const lake = openLake(config.lake, config.s3);
  const steps = createDaySteps({ db, lake, settings: { marts: config.marts }, log, clock });

  const until = async (what: string, done: () => Promise<boolean> | boolean): Promise<void> => {
    const deadline = Date.now() + 60 * 60_000;
    while (!(await done())) {
      if (failure !== undefined) throw failure;
      if (Date.now() > deadline) throw new Error(`${what}: not within an hour`);
      await sleep(500);
    }
  };

  const figures: DayFigures[] = [];
  try {
    for (let day = 0; day < count; day++) {
      const start = firstDay + day * DAY_MS;
      const date = new Date(start).toISOString().slice(0, 10);
      const jumpedAt = performance.now();
      setClock(start + DAY_MS + 20 * 60_000);
      await until('stream caught up', () => source.backlog() === 0 && committed >= source.nextOffset() - 1);
      const catchUpS = (performance.now() - jumpedAt) / 1000;
      // The daily trigger: the daily flow for the day that ended (once the archive holds all of
      // it), then retention — with the generator's clock, as the scheduler would at 02:00 that day.
      const flowAt = performance.now();
      await until('archive complete', async () => {
        try {
          await steps.completeness({ date, dryRun: false, signal: stop.signal });
          return true;
        } catch (error) {
          if (error instanceof DayStepNotReadyError) return false;
          throw error;
        }
      });
      for (const step of ['cold', 'reconcile', 'quality'] as const) await steps[step]({ date, dryRun: false, signal: stop.signal });
      await runAuditedRetention(
        { db, clock, log },
        { hotRetentionDays: config.retention.hotDays, dryRun: false, requestedBy: 'bench', vacuum: true },
      );
      const flowS = (performance.now() - flowAt) / 1000;
      const { rows } = await db.query<{ name: string; kb: number }>(LARGEST_TABLES_SQL);
      const memory = process.memoryUsage();
      collectGarbage();
      const retained = process.memoryUsage().heapUsed;
      figures.push({
        date,
        catchUpS,
        flowS,
        folder: folderBytes(config.database.embeddedDir),
        wal: folderBytes(join(config.database.embeddedDir, 'pg_wal')),
        tables: new Map(rows.map((r) => [r.name, r.kb * 1024])),
        rssMb: memory.rss / MB,
        peak,
        heapMb: memory.heapUsed / MB,
        retainedHeapMb: retained / MB,
        wasmMb: (embedded.wasmMemoryBytes?.() ?? 0) / MB,
        events: committed,
      });
      peak = zero();
      const f = figures.at(-1)!;
      process.stderr.write(
        `day ${date}: folder ${mb(f.folder)} MB (WAL ${mb(f.wal)}), heap after GC ${f.retainedHeapMb.toFixed(0)} MB, catch-up ${catchUpS.toFixed(0)} s, daily flow ${flowS.toFixed(0)} s, peak ${JSON.stringify(f.peak, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}\n` +
          `  ${rows.slice(0, 12).map((r) => `${r.name} ${(r.kb / 1024).toFixed(1)}`).join(', ')}\n`,
      );
    }
  } finally {
    stop.abort();
    await Promise.all([stream, archive]);
    clearInterval(sampler);
    await lake.close();
    await db.close();
    // The steady-state mode's real-time part goes on in this home (and reports it when kept).
    if (!keepHome) rmSync(home, { recursive: true, force: true });
    else if (values.minutes === undefined) process.stderr.write(`kept ${home}\n`);
  }
  if (failure !== undefined) throw failure;

  const lines = [
    '| after day | messages read | catch-up s | daily flow + retention s | data folder without WAL, MB | growth MB | WAL MB | at the end: RSS / V8 heap used / after a full GC / PGlite WASM MB | peak in the day: RSS / V8 heap / ArrayBuffers / PGlite WASM / parquet-wasm MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  // WAL is left out of the growth: it is recycled at each checkpoint, so it is bounded, not grown.
  const tables = (f: DayFigures): number => f.folder - f.wal;
  figures.forEach((f, i) => {
    const growth = i === 0 ? '' : mb(tables(f) - tables(figures[i - 1]!));
    const p = f.peak;
    lines.push(
      `| ${i + 1} (${f.date}) | ${f.events} | ${f.catchUpS.toFixed(0)} | ${f.flowS.toFixed(0)} | ${mb(tables(f))} | ${growth} | ${mb(f.wal)} | ${[f.rssMb, f.heapMb, f.retainedHeapMb, f.wasmMb].map((v) => v.toFixed(0)).join(' / ')} | ${[p.rss, p.heap, p.buffers, p.pglite, p.parquet].map((v) => v.toFixed(0)).join(' / ')} |`,
    );
  });
  // What each table holds after the last day, and what the last day added to it.
  const last = figures.at(-1)!;
  const before = figures.at(-2);
  const tableLines = ['| table | MB after the last day | MB added by the last day |', '|---|---:|---:|'];
  for (const [name, bytes] of [...last.tables].filter(([, b]) => b >= 256 * 1024)) {
    tableLines.push(`| ${name} | ${mb(bytes)} | ${before === undefined ? '' : mb(bytes - (before.tables.get(name) ?? 0))} |`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n\n${tableLines.join('\n')}\n\nCommand: npm run bench:embedded -- --days ${count}\n`);
}

if (values.home !== undefined) {
  const copy = mkdtempSync(join(tmpdir(), 'tidemark-embedded-steady-'));
  cpSync(values.home, copy, { recursive: true });
  await realTime({ path: copy, fresh: false });
} else if (DAYS === undefined) {
  await realTime({ path: mkdtempSync(join(tmpdir(), 'tidemark-embedded-bench-')), fresh: true });
} else {
  const home = mkdtempSync(join(tmpdir(), 'tidemark-embedded-days-'));
  // With --minutes too: the steady state, the demo process on the home the days left behind.
  const steady = values.minutes !== undefined;
  await days(DAYS, home, steady || values.keep === true);
  if (steady) {
    // The days' garbage is this process's, not the demo's; collected so that both fit in memory.
    collectGarbage();
    await realTime({ path: home, fresh: false });
  }
}
process.exit(0);
