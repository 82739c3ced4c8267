// Batch benchmark: one day of N generated events archived as Parquet on the S3-compatible
// server, then the cold step (recompute + atomic replace of the four cold marts) and the
// reconcile step (hot rows of the day recomputed through the stream core, replaced) read it
// back from S3. Side by side, DuckDB aggregates the same Parquet files with equivalent SQL
// (a local copy of the objects: DuckDB's httpfs extension would be downloaded at run time).
// Each measured phase runs in its own child process, so its peak RSS is its own.
//
//   npm run bench:batch -- [--events 10000000] [--phases cold,reconcile,duckdb] [--keep]
//                          [--lake-prefix bench-day-10m/]
//
// --lake-prefix names where the day is archived: when that prefix already holds the day's
// objects they are read as they are (no generation, which takes minutes at 10M), and the
// objects are never deleted, so later runs can reuse them. Without it a random prefix is used
// and removed afterwards unless --keep.
//
// Services: TEST_DATABASE_URL (a throwaway database is created on it and dropped) and
// TEST_S3_ENDPOINT / _ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _BUCKET / _REGION (or the --s3-* flags).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrate } from '../src/io/db/migrate.ts';
import { createPgDatabase } from '../src/io/db/pg-database.ts';
import { generateClicks } from '../src/io/generator/click-generator.ts';
import { datePrefix } from '../src/io/lake/lake-day-reader.ts';
import { encodeEventsToParquet } from '../src/io/lake/parquet-events.ts';
import type { ArchiveRow } from '../src/io/lake/parquet-events.ts';
import { createLogger } from '../src/io/log.ts';
import { createDaySteps } from '../src/jobs/day-steps/create-day-steps.ts';
import { endOfLocalDay, startOfLocalDay } from '../src/marts/time-zone.ts';
import { DEFAULT_MART_SETTINGS, UNKNOWN_CLINICAL_AREA } from '../src/marts/types.ts';
import { openBenchS3Lake } from './s3-bench-lake.ts';
import type { BenchS3Options } from './s3-bench-lake.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    date: { type: 'string', default: '2026-05-12' },
    phases: { type: 'string', default: 'cold,reconcile,duckdb' },
    partitions: { type: 'string', default: '4' },
    'object-events': { type: 'string', default: '250000' },
    keep: { type: 'boolean', default: false },
    'lake-prefix': { type: 'string' },
    'database-url': { type: 'string' },
    's3-endpoint': { type: 'string' },
    's3-bucket': { type: 'string' },
    's3-region': { type: 'string' },
    's3-access-key-id': { type: 'string' },
    's3-secret-access-key': { type: 'string' },
    // Internal: the measured phase a child process runs.
    child: { type: 'string' },
    prefix: { type: 'string' },
    dir: { type: 'string' },
  },
});

const DATE = values.date;
const SETTINGS = DEFAULT_MART_SETTINGS; // UTC: DuckDB needs no time-zone extension for the same day
const DAY_START = startOfLocalDay(DATE, SETTINGS.timeZone);
const DAY_END = endOfLocalDay(DATE, SETTINGS.timeZone);
const env = (name: string): string | undefined => process.env[name];
const s3Base = {
  endpoint: values['s3-endpoint'] ?? env('TEST_S3_ENDPOINT') ?? '',
  region: values['s3-region'] ?? env('TEST_S3_REGION') ?? 'us-east-1',
  accessKeyId: values['s3-access-key-id'] ?? env('TEST_S3_ACCESS_KEY_ID') ?? '',
  secretAccessKey: values['s3-secret-access-key'] ?? env('TEST_S3_SECRET_ACCESS_KEY') ?? '',
  bucket: values['s3-bucket'] ?? env('TEST_S3_BUCKET') ?? '',
};
const log = createLogger('error');

interface PhaseResult {
  readonly seconds: number;
  /** user + system CPU seconds of the phase's process: steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly facts: Record<string, unknown>;
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

// ---- child: one measured phase ------------------------------------------------------------------

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function runChild(phase: string): Promise<PhaseResult> {
  const started = performance.now();
  const cpuStart = cpuSeconds();
  if (phase === 'duckdb') {
    const facts = await duckdbDay(values.dir as string);
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSeconds() - cpuStart, peakRssMb: peakRssMb(), facts };
  }
  const db = createPgDatabase(values['database-url'] as string, { max: 2 });
  const lake = openBenchS3Lake({ ...s3Base, prefix: values.prefix as string });
  try {
    const steps = createDaySteps({ db, lake, settings: { marts: SETTINGS }, log, clock: Date.now });
    const step = phase === 'cold' ? steps.cold : steps.reconcile;
    const { summary } = await step({ date: DATE, dryRun: false, signal: new AbortController().signal });
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSeconds() - cpuStart, peakRssMb: peakRssMb(), facts: summary };
  } finally {
    await db.close();
    await lake.close();
  }
}

/** The four cold marts of the day in DuckDB SQL, with the same dedup (first by partition, offset). */
async function duckdbDay(dir: string): Promise<Record<string, unknown>> {
  // Imported here only: loading DuckDB's native library costs ~30 MB of RSS, which the cold and
  // reconcile phases (their own processes) must not be charged for.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const files = `${dir}/*.parquet`.replaceAll("'", "''");
  await c.run(`CREATE TABLE ev AS
    SELECT event_id, ts, session_id, document_id, title, area FROM (
      SELECT event_id, epoch_ms(event_ts) AS ts, session_id, document_id, title,
             coalesce(nullif(clinical_area, ''), '${UNKNOWN_CLINICAL_AREA}') AS area,
             row_number() OVER (PARTITION BY event_id ORDER BY kafka_partition, kafka_offset) AS rn
        FROM read_parquet('${files}'))
     WHERE rn = 1 AND ts >= ${DAY_START} AND ts < ${DAY_END}`);
  await c.run(`CREATE TABLE sessions AS SELECT session_id, count(*) AS clicks, count(DISTINCT document_id) AS docs,
      min(ts) AS first_ts, max(ts) AS last_ts, (max(ts) - min(ts)) // 1000 AS duration FROM ev GROUP BY session_id`);
  await c.run(`CREATE TABLE daily AS SELECT count(*) AS total, count(DISTINCT session_id) AS sessions, count(DISTINCT document_id) AS docs,
      (SELECT h FROM (SELECT (ts - ${DAY_START}) // 3600000 AS h, count(*) AS n FROM ev GROUP BY h) ORDER BY n DESC, h LIMIT 1) AS peak_hour FROM ev`);
  await c.run(`CREATE TABLE areas AS SELECT area, count(*) AS clicks, count(DISTINCT session_id) AS sessions FROM ev GROUP BY area`);
  await c.run(`CREATE TABLE docs AS SELECT document_id, count(*) AS views, count(DISTINCT session_id) AS sessions,
      first(title ORDER BY ts DESC, event_id DESC) FILTER (WHERE title IS NOT NULL) AS title FROM ev GROUP BY document_id`);
  const counts = await c.runAndReadAll(`SELECT (SELECT count(*) FROM sessions), (SELECT total FROM daily), (SELECT count(*) FROM areas), (SELECT count(*) FROM docs)`);
  const [sessions, total, areas, docs] = (counts.getRowsJS()[0] ?? []).map(Number);
  c.closeSync();
  instance.closeSync();
  return { events: total, mart_session_analysis: sessions, mart_clinical_areas: areas, mart_popular_documents: docs };
}

// ---- parent: generate, archive, run the phases, report --------------------------------------------

function runPhase(phase: string, args: readonly string[]): Promise<PhaseResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    // The young-generation limit the worker runs with (compose, `npm run worker`; README, "Memory").
    const child = spawn(process.execPath, ['--max-semi-space-size=16', script, '--child', phase, '--date', DATE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`phase ${phase} exited ${code}: ${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as PhaseResult);
    });
  });
}

/** The step summary without zeros and flags, for one table cell. */
function compact(facts: Record<string, unknown>): string {
  return Object.entries(facts)
    .filter(([k, v]) => v !== 0 && typeof v !== 'boolean' && k !== 'duration_ms')
    .map(([k, v]) => `${k.replace('mart_realtime_', '').replace('mart_', '')}=${String(v)}`)
    .join(', ');
}

function partitionOf(sessionId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < sessionId.length; i++) h = (h * 31 + sessionId.charCodeAt(i)) >>> 0;
  return h % partitions;
}

async function archiveDay(s3: BenchS3Options, count: number): Promise<{ objects: number; parquetBytes: number; jsonBytes: number; events: number; duplicates: number; seconds: number }> {
  const started = performance.now();
  const lake = openBenchS3Lake(s3);
  const partitions = Number(values.partitions);
  const objectEvents = Number(values['object-events']);
  const buffers = Array.from({ length: partitions }, () => [] as ArchiveRow[]);
  const offsets = new Array<number>(partitions).fill(0);
  let objects = 0;
  let parquetBytes = 0;
  let jsonBytes = 0;
  let events = 0;
  let duplicates = 0;
  const flush = async (p: number): Promise<void> => {
    const rows = buffers[p] as ArchiveRow[];
    if (rows.length === 0) return;
    const body = encodeEventsToParquet(rows);
    await lake.put(`${datePrefix(DATE)}curated.events-p${p}-o${rows[0]!.offset}-o${rows[rows.length - 1]!.offset}.parquet`, body);
    objects++;
    parquetBytes += body.byteLength;
    buffers[p] = [];
  };
  const add = async (row: Omit<ArchiveRow, 'partition' | 'offset'>, json: string): Promise<void> => {
    const p = partitionOf(row.sessionId, partitions);
    (buffers[p] as ArchiveRow[]).push({ ...row, partition: p, offset: String(offsets[p]!++) });
    jsonBytes += Buffer.byteLength(json) + 1;
    if ((buffers[p] as ArchiveRow[]).length >= objectEvents) await flush(p);
  };
  // Event time spans 98 % of the day, so the generator's jitter stays inside it.
  const generator = generateClicks({ startMs: DAY_START, eventsPerSecond: count / (0.98 * 86_400), seed: 11, anomalyEvery: 20_000 });
  while (events < count) {
    const click = generator.next().value as { value: string; eventTs: number };
    if (click.eventTs >= DAY_END) continue;
    const raw = JSON.parse(click.value) as { event_id: string; session_id: string; document_id: string; title: string | null; clinical_area: string | null };
    const row = {
      eventId: raw.event_id,
      eventTs: click.eventTs,
      sessionId: raw.session_id,
      documentId: raw.document_id,
      title: raw.title,
      clinicalArea: raw.clinical_area === null || raw.clinical_area === '' ? UNKNOWN_CLINICAL_AREA : raw.clinical_area,
    };
    events++;
    await add(row, click.value);
    // A producer retry now and then: the same event again at a later offset.
    if (events % 2000 === 0) {
      duplicates++;
      await add(row, click.value);
    }
  }
  for (let p = 0; p < partitions; p++) await flush(p);
  await lake.close();
  return { objects, parquetBytes, jsonBytes, events, duplicates, seconds: (performance.now() - started) / 1000 };
}

/** The day's objects already under the prefix (a reused archive). */
async function archivedObjects(s3: BenchS3Options): Promise<{ objects: number; bytes: number }> {
  const lake = openBenchS3Lake(s3);
  try {
    const objects = (await lake.list(datePrefix(DATE))).filter((o) => o.key.endsWith('.parquet'));
    return { objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
  } finally {
    await lake.close();
  }
}

async function parent(): Promise<void> {
  const databaseUrl = values['database-url'] ?? env('TEST_DATABASE_URL') ?? env('DATABASE_URL');
  if (databaseUrl === undefined || s3Base.endpoint === '' || s3Base.bucket === '') {
    process.stderr.write('bench:batch needs TEST_DATABASE_URL and TEST_S3_* (bash scripts/services.sh up && source .services/env.sh)\n');
    process.exit(2);
  }
  const count = Number(values.events);
  const phases = values.phases.split(',');
  const named = values['lake-prefix'];
  if (named !== undefined && (named === '' || !named.endsWith('/'))) {
    process.stderr.write('--lake-prefix must be a non-empty prefix ending in /\n');
    process.exit(2);
  }
  const prefix = named ?? `bench-batch-${randomBytes(4).toString('hex')}/`;
  const s3 = { ...s3Base, prefix };
  const dbName = `tidemark_bench_${randomBytes(4).toString('hex')}`;
  const admin = createPgDatabase(databaseUrl, { max: 1 });
  await admin.exec(`CREATE DATABASE "${dbName}"`);
  const url = new URL(databaseUrl);
  url.pathname = `/${dbName}`;
  const db = createPgDatabase(url.toString(), { max: 1 });
  const rows: [string, string, string][] = [];
  const record = (name: string, value: string, target = '—'): void => {
    rows.push([name, value, target]);
    process.stdout.write(`${name}: ${value}\n`);
  };
  let local: string | undefined;
  try {
    await migrate(db);
    await db.query(`INSERT INTO archive_watermark (consumer, watermark_ts) VALUES ('bench', 'infinity')`);
    const reused = named === undefined ? undefined : await archivedObjects(s3);
    let rowsRead: number;
    if (reused !== undefined && reused.objects > 0) {
      // The event count is the one the day was generated with: the objects' names do not say it.
      rowsRead = count + Math.floor(count / 2000);
      record('setup: reused archived day (not a target)', `${reused.objects} objects, ${(reused.bytes / 2 ** 20).toFixed(1)} MiB under ${prefix}`);
    } else {
      process.stdout.write(`archiving ${count.toLocaleString('en')} events of ${DATE} to ${s3Base.endpoint}/${s3Base.bucket}/${prefix} …\n`);
      const archived = await archiveDay(s3, count);
      record('setup: generate + encode + upload (not a target)', `${archived.seconds.toFixed(1)} s, ${archived.objects} objects, ${archived.duplicates.toLocaleString('en')} duplicates added`);
      const ratio = archived.parquetBytes / archived.jsonBytes;
      record('Parquet bytes vs JSON lines', `${(archived.parquetBytes / 2 ** 20).toFixed(1)} MiB vs ${(archived.jsonBytes / 2 ** 20).toFixed(1)} MiB = ${(100 * ratio).toFixed(1)} %`, '≤ 30 %');
      rowsRead = archived.events + archived.duplicates;
    }
    let coldSeconds: number | undefined;
    let duckdbSeconds: number | undefined;
    for (const phase of phases) {
      if (phase === 'duckdb') {
        // A local copy for DuckDB (not timed): its S3 access needs an extension download.
        local = mkdtempSync(join(tmpdir(), 'tidemark-bench-duckdb-'));
        mkdirSync(local, { recursive: true });
        const lake = openBenchS3Lake(s3);
        for (const object of await lake.list(datePrefix(DATE))) {
          writeFileSync(join(local, object.key.slice(object.key.lastIndexOf('/') + 1)), (await lake.get(object.key)) as Uint8Array);
        }
        await lake.close();
        const r = await runPhase('duckdb', ['--dir', local]);
        duckdbSeconds = r.seconds;
        record('duckdb: same Parquet (local copy), four marts, wall time / CPU time', `${r.seconds.toFixed(1)} s / ${r.cpuSeconds.toFixed(1)} s (${Math.round(rowsRead / r.seconds).toLocaleString('en')} rows/s)`);
        record('duckdb: peak RSS', `${r.peakRssMb} MiB`);
        record('duckdb: result', compact(r.facts));
        if (coldSeconds !== undefined) record('cold step / duckdb, wall time', `${(coldSeconds / r.seconds).toFixed(2)}×`, '≤ 3×');
        continue;
      }
      const r = await runPhase(phase, ['--prefix', prefix, '--database-url', url.toString()]);
      if (phase === 'cold') coldSeconds = r.seconds;
      const target = phase === 'cold' ? '≤ 60 s (10M)' : '—';
      record(`${phase}: wall time / CPU time (read S3 + compute + replace in PostgreSQL)`, `${r.seconds.toFixed(1)} s / ${r.cpuSeconds.toFixed(1)} s`, target);
      if (phase === 'cold' && duckdbSeconds !== undefined) record('cold step / duckdb, wall time', `${(r.seconds / duckdbSeconds).toFixed(2)}×`, '≤ 3×');
      record(`${phase}: rows read per second`, `${Math.round(rowsRead / r.seconds).toLocaleString('en')}/s`);
      record(`${phase}: peak RSS`, `${r.peakRssMb} MiB`, '≤ 1024 MiB');
      record(`${phase}: summary`, compact(r.facts));
    }
  } finally {
    await db.close();
    if (!values.keep) {
      await admin.exec(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      if (named === undefined) {
        const lake = openBenchS3Lake(s3);
        for (const object of await lake.list('')) await lake.delete(object.key);
        await lake.close();
      }
    }
    await admin.close();
    if (local !== undefined) rmSync(local, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nnpm run bench:batch -- --events ${count}\n\n| measure | value | target |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
  );
}

if (values.child !== undefined) {
  const result = await runChild(values.child);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else {
  await parent();
}
