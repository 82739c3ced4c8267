// Archive benchmark: Kafka → snappy Parquet objects in the lake, one `runArchive` writer, events
// already in a 3-partition topic (a backlog), on this machine (Kafka, PostgreSQL and the
// S3-compatible store local). Prints the figures; BENCHMARKS.md keeps the latest.
//
//   node bench/archive-bench.ts [--events 300000] [--flush-rows 100000] [--lake s3|file]
//
// Services come from TEST_DATABASE_URL, TEST_KAFKA_BROKERS and TEST_S3_* (bash
// scripts/services.sh up && source .services/env.sh).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runArchive } from '../src/io/archive/archive-writer.ts';
import { migrate } from '../src/io/db/migrate.ts';
import { createPgDatabase } from '../src/io/db/pg-database.ts';
import { createTopic, deleteTopic, endOffsets, produceLines } from '../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../src/io/kafka/kafka-source.ts';
import type { Lake } from '../src/io/lake/lake.ts';
import { openLocalFolderLake } from '../src/io/lake/local-folder-lake.ts';
import { openS3Lake } from '../src/io/lake/s3-lake.ts';
import { createLogger } from '../src/io/log.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    'flush-rows': { type: 'string', default: '100000' },
    lake: { type: 'string', default: 's3' },
  },
});
const EVENTS = Number(values.events);
const FLUSH_ROWS = Number(values['flush-rows']);
const env = (name: string): string | undefined => process.env[name]?.trim() || undefined;
const databaseUrl = env('TEST_DATABASE_URL');
const brokers = (env('TEST_KAFKA_BROKERS') ?? '').split(',').filter((b) => b !== '');
if (databaseUrl === undefined || brokers.length === 0 || (values.lake === 's3' && env('TEST_S3_ENDPOINT') === undefined)) {
  process.stderr.write('bench/archive-bench.ts needs TEST_DATABASE_URL, TEST_KAFKA_BROKERS and (for --lake s3) TEST_S3_*\n');
  process.exit(2);
}

function* generate(count: number, startMs: number): Generator<{ key: string; value: string }> {
  let s = 11;
  const random = (): number => (s = (s * 48271) % 2147483647) / 2147483647;
  const areas = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'dermatology', null];
  for (let i = 0; i < count; i++) {
    const session = `s${Math.floor(random() * Math.max(100, count / 20))}`;
    const doc = Math.floor(Math.pow(random(), 3) * 20_000);
    // Two days of event time, so every flush writes objects into two date folders.
    const ts = startMs + Math.floor((i / count) * 2 * 86_400_000);
    yield { key: session, value: JSON.stringify({ event_id: `e-${i}`, event_ts: ts, session_id: session, document_id: String(doc), title: `Document ${doc}`, clinical_area: areas[doc % areas.length] }) };
  }
}

const topic = `tidemark-bench-archive-${randomUUID()}`;
const consumer = `bench-archive-${randomUUID()}`;
const prefix = `bench-${randomUUID()}/`;
const dir = await mkdtemp(join(tmpdir(), 'tidemark-archive-bench-'));
const lake: Lake =
  values.lake === 's3'
    ? openS3Lake({
        bucket: env('TEST_S3_BUCKET') ?? 'tidemark-test',
        prefix,
        endpoint: env('TEST_S3_ENDPOINT') ?? null,
        region: env('TEST_S3_REGION') ?? 'us-east-1',
        accessKeyId: env('TEST_S3_ACCESS_KEY_ID') ?? null,
        secretAccessKey: env('TEST_S3_SECRET_ACCESS_KEY') ?? null,
        forcePathStyle: true,
      })
    : openLocalFolderLake(dir);
// A throwaway database, so the bench leaves no lake_days or archive state behind.
const databaseName = `tidemark_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = createPgDatabase(databaseUrl, { max: 1 });
await admin.exec(`CREATE DATABASE "${databaseName}"`);
const benchUrl = new URL(databaseUrl);
benchUrl.pathname = `/${databaseName}`;
const db = createPgDatabase(benchUrl.toString());
try {
  await migrate(db);
  await createTopic(brokers, topic, 3);
  await produceLines(brokers, topic, [...generate(EVENTS, Date.UTC(2026, 10, 20))].map((m) => ({ key: m.key, value: m.value })));
  let total = 0;
  for (const end of (await endOffsets(brokers, topic)).values()) total += Number(end);

  const stop = new AbortController();
  let archived = 0;
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const summary = await runArchive({
    db,
    lake,
    source: () => createKafkaSource({ brokers, topic, groupId: consumer, clientId: 'bench-archive', sessionTimeoutMs: 10_000 }),
    consumer,
    settings: {
      timeZone: 'UTC',
      watermarkDelayMs: 600_000,
      maxFutureSkewMs: 300_000,
      idlePartitionTimeoutMs: 60_000,
      limits: { maxRows: FLUSH_ROWS, maxBytes: 64 * 1024 * 1024, maxAgeMs: 5000 },
    },
    logEndOffsets: () => endOffsets(brokers, topic),
    log: createLogger('error'),
    signal: stop.signal,
    onFlush: (flush) => {
      archived += flush.messages;
      if (archived >= total) stop.abort();
    },
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const objects = await lake.list('curated/');
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  process.stdout.write(
    `archive bench (${values.lake} lake, ${total} events, 3 partitions, flush ${FLUSH_ROWS} rows)\n` +
      `  events/s Kafka → ${values.lake} (join, fetch, parse, encode, upload, commit): ${Math.round(summary.messages / seconds)}\n` +
      `  CPU µs/event: ${(((cpu.user + cpu.system) / summary.messages)).toFixed(1)}\n` +
      `  objects: ${objects.length}, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${(bytes / summary.archived).toFixed(1)} B/event)\n` +
      `  flushes: ${summary.flushes}, peak RSS: ${Math.round(peakRss / 1024 / 1024)} MB, wall ${seconds.toFixed(1)} s\n`,
  );
} finally {
  await deleteTopic(brokers, topic).catch(() => undefined);
  for (const object of await lake.list('')) await lake.delete(object.key);
  await lake.close();
  await db.close();
  await admin.exec(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
}
