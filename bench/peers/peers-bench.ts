// Side by side: tidemark, Apache Flink (SQL, local mini-cluster, parallelism 2) and Spark
// Structured Streaming (local[2]) on the same events in the same 3-partition topic, writing into
// the same PostgreSQL database. Prints a Markdown table; BENCHMARKS.md keeps the latest.
//
//   npm run bench:peers -- [--events 1000000] [--engines tidemark,flink,spark] [--heap 4g] [--keep]
//                          [--json FILE]   (also writes the figures and the comparison as JSON)
//
// The events are produced once; then each engine runs alone from the earliest offset until it
// has caught up, and its whole process tree is metered (CPU of every process, JVMs included; peak
// RSS of the tree). Start-up is part of the wall time; "first row" shows how much of it.
// Afterwards each peer's final rows are compared with tidemark's marts, row for row.
// Services come from TEST_DATABASE_URL and TEST_KAFKA_BROKERS; the peers from
// scripts/provision-peers.sh (run here first: a no-op once the cache is filled).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { migrate } from '../../src/io/db/migrate.ts';
import { createTopic, deleteTopic, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { generateBenchEvents } from '../bench-events.ts';
import { compareMart, MARTS } from './compare-marts.ts';
import type { MartDiff } from './compare-marts.ts';
import type { EngineRun, RunParameters } from './engines.ts';
import { flinkEngine, PEERS_CACHE, ROOT, sparkEngine, tidemarkEngine } from './engines.ts';
import { ProcessTreeMeter } from './process-tree-meter.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    engines: { type: 'string', default: 'tidemark,flink,spark' },
    heap: { type: 'string', default: '4g' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const engines = values.engines.split(',');
const adminUrl = process.env['TEST_DATABASE_URL'] ?? process.env['DATABASE_URL'];
const brokers = (process.env['TEST_KAFKA_BROKERS'] ?? process.env['KAFKA_BROKERS'] ?? '').split(',').filter((b) => b !== '');
if (adminUrl === undefined || brokers.length === 0 || !engines.includes('tidemark')) {
  process.stderr.write('bench:peers needs TEST_DATABASE_URL and TEST_KAFKA_BROKERS (bash scripts/services.sh up && source .services/env.sh), and tidemark among --engines (the reference)\n');
  process.exit(2);
}
const say = (line: string): void => void process.stderr.write(`[bench:peers] ${line}\n`);

if (engines.some((e) => e !== 'tidemark')) {
  const provision = spawnSync('bash', [`${ROOT}scripts/provision-peers.sh`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (provision.status !== 0) process.exit(provision.status ?? 1);
}

const runId = randomBytes(5).toString('hex');
const dbName = `tidemark_peers_${runId}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
// An identifier cannot be a bound parameter; the name is made of [a-z0-9_] only.
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const databaseUrl = dbUrl.toString();
const db = createPgDatabase(databaseUrl);
await migrate(db);
await db.exec(readFileSync(new URL('./peer-tables.sql', import.meta.url), 'utf8'));

const topic = `bench-peers-${runId}`;
await createTopic(brokers, topic, 3);
say(`producing ${EVENTS.toLocaleString('en-US')} events into ${topic} (3 partitions)`);
const EVENT_START = Date.UTC(2026, 2, 1);
await produceLines(brokers, topic, [...generateBenchEvents(EVENTS, EVENT_START, 3_600_000)].map((e) => ({ key: e.key, value: e.value })));

const params: RunParameters = { databaseUrl, brokers, topic, events: EVENTS, runId, heap: values.heap };
const logDir = `${PEERS_CACHE}/runs/${runId}`;
mkdirSync(logDir, { recursive: true });

interface Measured {
  readonly engine: EngineRun;
  readonly wallSeconds: number;
  readonly firstRowSeconds: number | undefined;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/** The table each engine writes first-minute rows into: its first row marks the end of start-up. */
const firstRowTable = (e: EngineRun): string => (e.tablePrefix === undefined ? 'mart_realtime_traffic_minute' : `${e.tablePrefix}_traffic_minute`);

async function measure(engine: EngineRun): Promise<Measured> {
  say(`running ${engine.name}`);
  const log = createWriteStream(`${logDir}/${engine.name.split(' ')[0]!.toLowerCase()}.log`);
  const started = performance.now();
  const child = spawn(engine.command, engine.args, { env: engine.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const meter = new ProcessTreeMeter(child.pid!);
  let firstRow: number | undefined;
  const poll = setInterval(() => {
    if (firstRow !== undefined) return;
    void db.query(`SELECT 1 FROM ${firstRowTable(engine)} LIMIT 1`).then((r) => {
      if (r.rows.length > 0 && firstRow === undefined) firstRow = (performance.now() - started) / 1000;
    });
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  const usage = meter.stop();
  if (code !== 0) throw new Error(`${engine.name} exited with ${code}; log: ${logDir}`);
  say(`${engine.name}: ${wallSeconds.toFixed(1)} s, ${usage.cpuSeconds.toFixed(1)} CPU s, ${usage.processes} processes`);
  return { engine, wallSeconds, firstRowSeconds: firstRow, cpuSeconds: usage.cpuSeconds, peakRssBytes: usage.peakRssBytes };
}

const factories: Record<string, (p: RunParameters) => EngineRun> = { tidemark: tidemarkEngine, flink: flinkEngine, spark: sparkEngine };
const results: Measured[] = [];
try {
  for (const name of engines) {
    const factory = factories[name];
    if (factory === undefined) throw new Error(`unknown engine ${name} (tidemark, flink, spark)`);
    results.push(await measure(factory(params)));
  }

  const consumer = await db.query<{ w: number }>(`SELECT (extract(epoch FROM watermark_ts) * 1000)::float8 AS w FROM stream_consumers WHERE consumer = $1`, [`peers-${runId}`]);
  const watermark = consumer.rows[0]?.w;
  if (watermark === undefined) throw new Error('tidemark left no watermark');

  const ref = results.find((r) => r.engine.name === 'tidemark')!;
  const lines = [
    `| engine | events/s to caught up | wall s (first row at) | CPU s (all processes) | CPU µs/event | peak RSS MiB | CPU vs tidemark | events/s vs tidemark |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.engine.name} | ${Math.round(EVENTS / r.wallSeconds).toLocaleString('en-US')} | ${r.wallSeconds.toFixed(1)} (${r.firstRowSeconds?.toFixed(1) ?? '–'}) | ${r.cpuSeconds.toFixed(1)} | ${((r.cpuSeconds * 1e6) / EVENTS).toFixed(1)} | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} | ${(r.cpuSeconds / ref.cpuSeconds).toFixed(2)}× | ${(ref.wallSeconds / r.wallSeconds).toFixed(2)}× |`,
    );
  }
  lines.push('', `Final rows (windows ending at or before tidemark's final watermark ${new Date(watermark).toISOString()}), compared with tidemark's marts:`, '');
  lines.push('| engine | mart | tidemark rows | engine rows | differing rows | differing in exact columns |', '|---|---|---:|---:|---:|---:|');
  const comparisons: { engine: string; mart: string; diff: MartDiff }[] = [];
  for (const r of results) {
    if (r.engine.tablePrefix === undefined) continue;
    for (const mart of MARTS) {
      if (r.engine.marts !== undefined && !r.engine.marts.includes(mart.name)) continue;
      const exact = r.engine.exactValues?.[mart.name] ?? mart.values;
      const d = await compareMart(db, mart, r.engine.tablePrefix, watermark, exact);
      comparisons.push({ engine: r.engine.name, mart: mart.name, diff: d });
      const exactCell = exact.length === mart.values.length ? '(all exact)' : `${d.differingExact} (${exact.join(', ')})`;
      lines.push(`| ${r.engine.name} | ${mart.name} | ${d.tidemarkRows} | ${d.peerRows} | ${d.differing} | ${exactCell} |`);
    }
  }
  lines.push('', `Command: npm run bench:peers -- --events ${EVENTS} --engines ${values.engines} --heap ${values.heap}`);
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (values.json !== undefined) {
    const engineFigures = results.map((r) => ({ engine: r.engine.name, wallSeconds: r.wallSeconds, firstRowSeconds: r.firstRowSeconds, cpuSeconds: r.cpuSeconds, peakRssBytes: r.peakRssBytes }));
    writeFileSync(values.json, JSON.stringify({ events: EVENTS, watermark, engines: engineFigures, comparisons }, null, 2));
  }
} finally {
  await db.close();
  await deleteTopic(brokers, topic);
  if (!values.keep) {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(`${logDir}/spark-checkpoints`, { recursive: true, force: true });
  } else say(`kept database ${dbName}`);
  await admin.end();
}
process.exit(0);
