// Stream benchmark: Kafka → all four hot marts in PostgreSQL with one processor, on this machine
// (Kafka and PostgreSQL local). Prints a Markdown table; BENCHMARKS.md keeps the latest.
//
//   npm run bench:stream -- [--events 300000] [--rate 10000] [--rate-seconds 20]
//
// Phases:
//  1. core      — the processor alone (no I/O) over the generated events: CPU µs/event, and
//                 RSS with the 24 h clinical window full (the events span 26 h of event time).
//  2. backlog   — events already in a 3-partition topic (1 h of event time, ~80 events/s of
//                 event time), consumed by `runStream` with the event-time aligner into
//                 PostgreSQL: sustained events/s, CPU µs/event.
//  3. live      — a producer paced at --rate events/s with event_ts = now: freshness = commit of
//                 the batch holding a message − its Kafka timestamp (p50/p99), alert latency for
//                 a burst session, likewise measured to the commit that raised the alert.
//     live2     — the same with two instances in one consumer group (the combiner reads the
//                 other's buckets from PostgreSQL).
//  4. restart   — `tidemark stream` killed with SIGKILL, restarted: seconds to its first commit.
// Services come from TEST_DATABASE_URL and TEST_KAFKA_BROKERS (bash scripts/services.sh up).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPgDatabase } from '../src/io/db/pg-database.ts';
import { migrate } from '../src/io/db/migrate.ts';
import { alignByEventTime } from '../src/io/event-time-aligned-source.ts';
import { createTopic, deleteTopic, endOffsets, produceLines } from '../src/io/kafka/kafka-admin.ts';
import { openLineProducer } from '../src/io/kafka/kafka-producer.ts';
import { createKafkaSource } from '../src/io/kafka/kafka-source.ts';
import { createLogger } from '../src/io/log.ts';
import type { MessageSource, SourcePoll } from '../src/io/source.ts';
import { runStream } from '../src/io/stream-runner.ts';
import { DEFAULT_MART_SETTINGS } from '../src/marts/types.ts';
import type { RawMessage } from '../src/marts/types.ts';
import { StreamProcessor } from '../src/stream/stream-processor.ts';
import { generateBenchEvents as generate } from './bench-events.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '10000' },
    'rate-seconds': { type: 'string', default: '20' },
    phases: { type: 'string', default: 'core,backlog,live,restart' },
  },
});
const EVENTS = Number(values.events);
const RATE = Number(values.rate);
const RATE_SECONDS = Number(values['rate-seconds']);
const databaseUrl = process.env['TEST_DATABASE_URL'] ?? process.env['DATABASE_URL'];
const brokers = (process.env['TEST_KAFKA_BROKERS'] ?? process.env['KAFKA_BROKERS'] ?? '').split(',').filter((b) => b !== '');
if (databaseUrl === undefined || brokers.length === 0) {
  process.stderr.write('bench:stream needs TEST_DATABASE_URL and TEST_KAFKA_BROKERS (bash scripts/services.sh up && source .services/env.sh)\n');
  process.exit(2);
}
const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 };
const log = createLogger('error');
const rows: [string, string][] = [];
const record = (name: string, value: string): void => {
  rows.push([name, value]);
  process.stdout.write(`${name}: ${value}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function corePhase(): Promise<void> {
  const messages: RawMessage[] = [];
  let i = 0;
  for (const e of generate(EVENTS, Date.UTC(2026, 2, 1), 26 * 3_600_000)) messages.push({ source: 'bench', partition: 0, offset: String(i++), value: e.value, receivedAt: 0 });
  const processor = new StreamProcessor(SETTINGS, Date.now);
  processor.assign({ source: 'bench', partition: 0, nextOffset: null, maxEventTs: -Infinity, watermark: -Infinity, anomaly: {}, buckets: [], pendingEvents: [] });
  const cpu = process.cpuUsage();
  const started = performance.now();
  // As the stream runner does while it reads a backlog: provisional rows at most once a second.
  let provisionalAt = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < messages.length; k += 5000) {
    processor.process(messages.slice(k, k + 5000));
    const provisional = performance.now() - provisionalAt >= 1000;
    if (provisional) provisionalAt = performance.now();
    processor.flush({ provisional });
  }
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  record('core: events/s (processor only, 5000-event batches, 26 h of events)', Math.round(messages.length / (wall / 1000)).toLocaleString('en-US'));
  record('core: CPU µs/event', ((used.user + used.system) / messages.length).toFixed(2));
  record('core: RSS MB with the 24 h window full (events held as input too)', (process.memoryUsage().rss / 2 ** 20).toFixed(0));
}

async function backlogPhase(): Promise<void> {
  const topic = `bench-${randomUUID()}`;
  await createTopic(brokers, topic, 3);
  const lines = [...generate(EVENTS, Date.UTC(2026, 2, 1), 3_600_000)].map((e) => ({ key: e.key, value: e.value }));
  await produceLines(brokers, topic, lines);
  const db = createPgDatabase(databaseUrl!);
  await migrate(db);
  const consumer = `bench-${randomUUID()}`;
  const stop = new AbortController();
  let applied = 0;
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = runStream({
    db,
    source: alignByEventTime(createKafkaSource({ brokers, topic, groupId: consumer, clientId: 'bench' }), { endOffsets: () => endOffsets(brokers, topic) }),
    consumer,
    settings: SETTINGS,
    batchMaxMessages: 5000,
    batchMaxWaitMs: 100,
    log,
    logEndOffsets: () => endOffsets(brokers, topic),
    signal: stop.signal,
    onCommit: (batch) => {
      applied += batch.applied;
      if (applied + batch.lateEvents.length >= EVENTS * 0.999) stop.abort();
    },
  });
  const summary = await run;
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  clearInterval(rssTimer);
  record('backlog: events', summary.messages.toLocaleString('en-US'));
  record('backlog: events/s Kafka → 4 hot marts (1 processor)', Math.round(summary.messages / (wall / 1000)).toLocaleString('en-US'));
  record('backlog: processor CPU µs/event (incl. Kafka client, pg driver)', ((used.user + used.system) / summary.messages).toFixed(1));
  record('backlog: peak RSS MB', (peakRss / 2 ** 20).toFixed(0));
  await db.close();
  await deleteTopic(brokers, topic);
}

/** Remembers each polled batch's Kafka timestamps until its commit. */
function timing(inner: MessageSource): { source: MessageSource; take(): RawMessage[] } {
  let pending: RawMessage[] = [];
  return {
    source: {
      bounded: inner.bounded,
      start: (hooks) => inner.start(hooks),
      async poll(max, wait): Promise<SourcePoll> {
        const r = await inner.poll(max, wait);
        if (r.kind === 'messages') pending.push(...r.messages);
        return r;
      },
      close: () => inner.close(),
    },
    take: () => {
      const out = pending;
      pending = [];
      return out;
    },
  };
}

async function livePhase(instances: number): Promise<void> {
  const topic = `bench-live-${randomUUID()}`;
  await createTopic(brokers, topic, 3);
  const db = createPgDatabase(databaseUrl!);
  await migrate(db);
  const consumer = `bench-${randomUUID()}`;
  const stop = new AbortController();
  const freshness: number[] = [];
  const alertLatency: number[] = [];
  const burstSent = new Map<string, number>();
  // Every instance is a member of one consumer group, each with its own Kafka client.
  const runs = Array.from({ length: instances }, (_, n) => {
    const timed = timing(alignByEventTime(createKafkaSource({ brokers, topic, groupId: consumer, clientId: `bench-${n}` }), { endOffsets: () => endOffsets(brokers, topic) }));
    return runStream({
      db,
      source: timed.source,
      consumer,
      settings: SETTINGS,
      batchMaxMessages: 5000,
      batchMaxWaitMs: 50,
      log,
      logEndOffsets: () => endOffsets(brokers, topic),
      signal: stop.signal,
      onCommit: (batch) => {
        const now = Date.now();
        for (const m of timed.take()) if (m.producedAt !== undefined) freshness.push(now - m.producedAt);
        for (const a of batch.alerts) {
          const sent = burstSent.get(a.sessionId);
          if (sent !== undefined && a.severity === 'WARNING') alertLatency.push(now - sent);
        }
      },
    });
  });
  await new Promise((r) => setTimeout(r, 3000 * instances));
  // Paced producer: RATE events/s for RATE_SECONDS, one burst session (60 clicks) every 2 s.
  let sent = 0;
  let burst = 0;
  const startedAt = Date.now();
  const until = startedAt + RATE_SECONDS * 1000;
  // One long-lived producer, as a real one is (a tick's lines go out in one request).
  const producer = openLineProducer(brokers, topic, 'tidemark-bench-live');
  while (Date.now() < until) {
    const tickStart = Date.now();
    // Paced by what is due so far, not per tick: a slow tick is made up by the next one.
    const perTick = Math.max(1, Math.round(((tickStart - startedAt) * RATE) / 1000) - sent);
    const lines = [...generate(perTick, tickStart, 1, sent + 11)].map((e, i) => ({ key: e.key, value: JSON.stringify({ ...JSON.parse(e.value), event_id: `live-${sent + i}`, event_ts: tickStart }) }));
    if (Math.floor((sent + perTick) / (RATE * 2)) > Math.floor(sent / (RATE * 2)) || sent === 0) {
      const session = `burst-${burst++}`;
      for (let k = 0; k < 60; k++) lines.push({ key: session, value: JSON.stringify({ event_id: `${session}-${k}`, event_ts: tickStart, session_id: session, document_id: '1', title: 'x', clinical_area: null }) });
      burstSent.set(session, tickStart);
    }
    await producer.send(lines);
    sent += perTick;
    const elapsed = Date.now() - tickStart;
    if (elapsed < 50) await new Promise((r) => setTimeout(r, 50 - elapsed));
  }
  await producer.close();
  await new Promise((r) => setTimeout(r, 3000));
  stop.abort();
  await Promise.all(runs);
  const sorted = freshness.sort((a, b) => a - b);
  const alerts = alertLatency.sort((a, b) => a - b);
  const label = instances === 1 ? 'live' : `live, ${instances} instances`;
  record(`${label}: achieved produce rate (target ${RATE}/s)`, `${Math.round(sent / RATE_SECONDS).toLocaleString('en-US')}/s`);
  record(`${label}: freshness produce → committed row, p50 / p99 ms`, `${percentile(sorted, 50)} / ${percentile(sorted, 99)}`);
  record(`${label}: anomaly alert latency (burst produced → alert committed), p50 / p99 ms`, `${percentile(alerts, 50)} / ${percentile(alerts, 99)} (${alerts.length} bursts)`);
  await db.close();
  await deleteTopic(brokers, topic);
}

async function restartPhase(): Promise<void> {
  const topic = `bench-restart-${randomUUID()}`;
  await createTopic(brokers, topic, 3);
  await produceLines(brokers, topic, [...generate(Math.min(EVENTS, 200_000), Date.UTC(2026, 2, 1), 3_600_000, 3)].map((e) => ({ key: e.key, value: e.value })));
  const groupId = `bench-${randomUUID()}`;
  const db = createPgDatabase(databaseUrl!);
  await migrate(db);
  // Static membership: the restarted process takes its partitions back without waiting for the
  // killed one's session to expire.
  const env = {
    PATH: process.env['PATH'] ?? '',
    DATABASE_URL: databaseUrl!,
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    KAFKA_GROUP_INSTANCE_ID: 'bench-stream-1',
    KAFKA_SESSION_TIMEOUT: '6s',
    LOG_LEVEL: 'error',
  };
  const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const lastCommit = async (): Promise<number> => {
    const r = await db.query<{ at: number | null }>(`SELECT (extract(epoch from max(updated_at)) * 1000)::float8 AS at FROM stream_partitions WHERE consumer = $1`, [groupId]);
    return r.rows[0]?.at ?? 0;
  };
  const first = spawn(process.execPath, [cli, 'stream'], { env, stdio: 'ignore' });
  while ((await lastCommit()) === 0) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 4000));
  first.kill('SIGKILL');
  await new Promise((r) => first.on('exit', r));
  const before = await lastCommit();
  const restartedAt = Date.now();
  const second = spawn(process.execPath, [cli, 'stream'], { env, stdio: 'ignore' });
  while ((await lastCommit()) <= before) await new Promise((r) => setTimeout(r, 50));
  record('restart: kill -9 → first commit of the new process, s (static group membership)', ((Date.now() - restartedAt) / 1000).toFixed(1));
  second.kill('SIGTERM');
  await new Promise((r) => second.on('exit', r));
  await db.close();
  await deleteTopic(brokers, topic);
}

const phases = new Set(values.phases.split(','));
if (phases.has('core')) await corePhase();
if (phases.has('backlog')) await backlogPhase();
if (phases.has('live')) await livePhase(1);
if (phases.has('live2')) await livePhase(2);
if (phases.has('restart')) await restartPhase();
process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\nCommand: npm run bench:stream -- --events ${EVENTS} --rate ${RATE} --rate-seconds ${RATE_SECONDS} --phases ${values.phases}\n`);
process.exit(0);
