// Kafka client benchmark: kafkajs vs @platformatic/kafka (and tidemark's own Kafka source on top of
// the latter). Every phase runs in its own child process, so JIT, GC, CPU and peak-RSS accounting of
// one never leak into another. Each client family (kafkajs, platformatic) produces N ~200-byte JSON
// click events keyed by session into a fresh P-partition topic (idempotent producer, acks=all); then
// each client consumes them all in a fresh consumer group from the earliest offset.
//
//   node bench/kafka-clients.ts [--brokers 127.0.0.1:59092] [--messages 1000000] [--partitions 3]
//                               [--clients kafkajs,kafkajs-each-message,platformatic,tidemark-source]
//
// Brokers default to TEST_KAFKA_BROKERS, then KAFKA_BROKERS. Prints a Markdown table and, with
// --json, one JSON line per client. CPU is process.cpuUsage() (user + system, all threads) over the
// phase, divided by the messages of the phase; throughput is messages / wall time.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Consumer, Producer, ProduceAcks, compatibilityPartitioner } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { createTopic, deleteTopic } from '../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../src/io/kafka/kafka-source.ts';

const CLIENTS = ['kafkajs', 'kafkajs-each-message', 'platformatic', 'tidemark-source'] as const;
type Client = (typeof CLIENTS)[number];

interface PhaseResult {
  readonly messages: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly messagesPerSec: number;
  readonly cpuUsPerMessage: number;
}

interface ClientResult {
  readonly client: Client;
  readonly node: string;
  readonly produce: (PhaseResult & { readonly maxRssMb: number }) | null;
  readonly consume: PhaseResult & { readonly firstMessageMs: number; readonly maxRssMb: number };
  readonly warnings: Record<string, number>;
}

const BATCH = 5000;
const IN_FLIGHT = 4;
// Fetch sizes used by tidemark's source; the platformatic run uses the same so the numbers carry over.
const FETCH_MAX_BYTES = 8 * 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 2 * 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    brokers: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '3' },
    clients: { type: 'string', default: CLIENTS.join(',') },
    child: { type: 'string' },
    phase: { type: 'string' },
    topic: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const brokers = (args.brokers ?? process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:59092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');
const total = Number(args.messages);
const partitions = Number(args.partitions);

// ---- deterministic ~200-byte curated events, keyed by session ----

const AREAS = ['cardiology', 'oncology', 'neurology', 'pediatrics', 'dermatology', 'radiology', 'endocrinology', ''];
const BASE_TS = Date.parse('2025-03-01T00:00:00.000Z');

function eventAt(i: number): { key: string; value: string } {
  // A multiplicative hash spreads sessions and documents without a PRNG state to carry around.
  const h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  const session = `s-${(h % 40_000).toString(36).padStart(5, '0')}`;
  const doc = (h >>> 7) % 25_000;
  const value = JSON.stringify({
    event_id: `e-${i.toString(36).padStart(8, '0')}-${h.toString(16).padStart(8, '0')}`,
    event_ts: new Date(BASE_TS + i * 3).toISOString(),
    session_id: session,
    document_id: 1_000_000 + doc,
    title: `Clinical guideline ${doc}: diagnosis, management and follow-up`,
    clinical_area: AREAS[h % AREAS.length],
  });
  return { key: session, value };
}

// ---- measurement ----

async function measure(messages: number, run: () => Promise<void>): Promise<PhaseResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    messages,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round(cpuMs),
    messagesPerSec: Math.round((messages / wallMs) * 1000),
    cpuUsPerMessage: Math.round(((cpuMs * 1000) / messages) * 100) / 100,
  };
}

async function batches(each: (batch: { key: string; value: string }[]) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const start = next;
      next = Math.min(total, next + BATCH);
      const batch = [];
      for (let i = start; i < next; i++) batch.push(eventAt(i));
      await each(batch);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

// ---- kafkajs ----

async function produceKafkajs(topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await batches(async (batch) => {
      await producer.send({ topic, acks: -1, messages: batch });
    });
  } finally {
    await producer.disconnect();
  }
}

async function consumeKafkajs(topic: string, perMessage: boolean): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  let count = 0;
  let sink = 0;
  let firstAt = 0;
  const t0 = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    // The same per-message work as tidemark's source: bytes, offset, timestamp.
    const touch = (m: { value: Buffer | null; offset: string; timestamp: string }): void => {
      if (count++ === 0) firstAt = performance.now() - t0;
      sink += (m.value?.length ?? 0) + m.offset.length + Number(m.timestamp);
      if (count === total) resolve();
    };
    const run = perMessage
      ? consumer.run({ autoCommit: false, eachMessage: async ({ message }) => touch(message) })
      : consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) touch(message);
          },
        });
    run.catch(reject);
  });
  await consumer.disconnect();
  if (sink === 0) throw new Error('nothing consumed');
  return firstAt;
}

// ---- @platformatic/kafka ----

async function producePlatformatic(topic: string): Promise<void> {
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
  });
  try {
    await batches(async (batch) => {
      await producer.send({
        messages: batch.map((e) => ({ topic, key: Buffer.from(e.key), value: Buffer.from(e.value) })),
      });
    });
  } finally {
    await producer.close();
  }
}

async function consumePlatformatic(topic: string): Promise<number> {
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    groupId: `bench-${randomUUID()}`,
    bootstrapBrokers: brokers,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
  });
  let count = 0;
  let sink = 0;
  let firstAt = 0;
  const t0 = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (m) => {
      if (count++ === 0) firstAt = performance.now() - t0;
      sink += (m.value?.length ?? 0) + m.offset.toString().length + Number(m.timestamp);
      if (count === total) resolve();
    });
  });
  await stream.close();
  await consumer.close();
  if (sink === 0) throw new Error('nothing consumed');
  return firstAt;
}

// ---- tidemark's source (platformatic underneath, plus ordering, buffering and RawMessage) ----

async function consumeTidemarkSource(topic: string): Promise<number> {
  const source = createKafkaSource({ brokers, topic, groupId: `bench-${randomUUID()}`, clientId: 'bench-tidemark' });
  let count = 0;
  let sink = 0;
  let firstAt = 0;
  const t0 = performance.now();
  await source.start({ offsetsFor: async (_source, ps) => new Map(ps.map((p) => [p, null])) });
  while (count < total) {
    const result = await source.poll(10_000, 1000);
    if (result.kind !== 'messages') continue;
    for (const m of result.messages) {
      if (count++ === 0) firstAt = performance.now() - t0;
      sink += (m.value as Uint8Array | null)?.length ?? 0;
    }
  }
  await source.close();
  if (sink === 0) throw new Error('nothing consumed');
  return firstAt;
}

// ---- child: one phase of one client ----

interface ChildResult {
  readonly phase: PhaseResult & { readonly firstMessageMs?: number };
  readonly maxRssMb: number;
  readonly warnings: Record<string, number>;
}

async function runChild(client: Client, phase: 'produce' | 'consume', topic: string): Promise<ChildResult> {
  const warnings: Record<string, number> = {};
  process.on('warning', (w) => {
    warnings[w.name] = (warnings[w.name] ?? 0) + 1;
  });
  let firstMessageMs: number | undefined;
  const result = await measure(total, async () => {
    if (phase === 'produce') {
      if (client.startsWith('kafkajs')) await produceKafkajs(topic);
      else await producePlatformatic(topic);
    } else if (client === 'kafkajs') firstMessageMs = await consumeKafkajs(topic, false);
    else if (client === 'kafkajs-each-message') firstMessageMs = await consumeKafkajs(topic, true);
    else if (client === 'platformatic') firstMessageMs = await consumePlatformatic(topic);
    else firstMessageMs = await consumeTidemarkSource(topic);
  });
  return {
    phase: firstMessageMs === undefined ? result : { ...result, firstMessageMs: Math.round(firstMessageMs) },
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    warnings,
  };
}

// ---- parent ----

function runInChild(client: Client, phase: 'produce' | 'consume', topic: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // --no-warnings: warnings are counted by the child, not printed once per connection.
    const child = spawn(
      process.execPath,
      ['--no-warnings', import.meta.filename, '--child', client, '--phase', phase, '--topic', topic, '--brokers', brokers.join(','), '--messages', String(total)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || line === '') reject(new Error(`${client} ${phase}: child exited with ${code}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

// Each client family produces its own topic once; every consumer of that family reads it.
async function runClients(clients: readonly Client[]): Promise<ClientResult[]> {
  const topics = new Map<string, { topic: string; produce: ChildResult }>();
  const results: ClientResult[] = [];
  try {
    for (const client of clients) {
      const family = client.startsWith('kafkajs') ? 'kafkajs' : 'platformatic';
      let produced = topics.get(family);
      let produce: ChildResult | null = null;
      if (!produced) {
        const topic = `tidemark-bench-${family}-${randomUUID()}`;
        await createTopic(brokers, topic, partitions);
        process.stderr.write(`${family}: producing ${total} messages …\n`);
        produce = await runInChild(client, 'produce', topic);
        produced = { topic, produce };
        topics.set(family, produced);
      }
      process.stderr.write(`${client}: consuming …\n`);
      const consume = await runInChild(client, 'consume', produced.topic);
      const warnings = { ...consume.warnings };
      for (const [name, n] of Object.entries(produce?.warnings ?? {})) warnings[name] = (warnings[name] ?? 0) + n;
      const result: ClientResult = {
        client,
        node: process.version,
        produce: produce ? { ...produce.phase, maxRssMb: produce.maxRssMb } : null,
        consume: { ...consume.phase, firstMessageMs: consume.phase.firstMessageMs ?? 0, maxRssMb: consume.maxRssMb },
        warnings,
      };
      results.push(result);
      if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  } finally {
    for (const { topic } of topics.values()) await deleteTopic(brokers, topic);
  }
  return results;
}

function table(results: readonly ClientResult[]): string {
  const rows = [
    '| client | produce msg/s | produce CPU µs/msg | produce max RSS | consume msg/s | consume CPU µs/msg | consume max RSS | first message after | warnings |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const warn = Object.entries(r.warnings).map(([name, n]) => `${name} ×${n}`).join(', ') || 'none';
    rows.push(
      `| ${r.client} | ${r.produce?.messagesPerSec.toLocaleString('en') ?? '–'} | ${r.produce?.cpuUsPerMessage ?? '–'} | ` +
        `${r.produce ? `${r.produce.maxRssMb} MB` : '–'} | ${r.consume.messagesPerSec.toLocaleString('en')} | ${r.consume.cpuUsPerMessage} | ` +
        `${r.consume.maxRssMb} MB | ${r.consume.firstMessageMs} ms | ${warn} |`,
    );
  }
  return rows.join('\n');
}

if (args.child !== undefined) {
  const client = args.child as Client;
  if (!CLIENTS.includes(client)) throw new Error(`unknown client ${client}`);
  if (args.phase !== 'produce' && args.phase !== 'consume') throw new Error('--phase produce|consume');
  if (args.topic === undefined) throw new Error('--topic is required');
  const result = await runChild(client, args.phase, args.topic);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // kafkajs leaves timers behind after disconnect; the parent only waits for this line.
  process.exit(0);
} else {
  const clients = args.clients.split(',').map((c) => c.trim()) as Client[];
  for (const c of clients) if (!CLIENTS.includes(c)) throw new Error(`unknown client ${c}; choose from ${CLIENTS.join(', ')}`);
  // Generator cost alone, so that it can be subtracted from the produce CPU figures.
  let bytes = 0;
  const gen = await measure(total, async () => {
    for (let i = 0; i < total; i++) bytes += eventAt(i).value.length;
  });
  const results = await runClients(clients);
  process.stdout.write(
    `\n${total.toLocaleString('en')} messages (avg ${Math.round(bytes / total)} B), ${partitions} partitions, brokers ${brokers.join(',')}, ` +
      `Node ${process.version}; generating them alone costs ${gen.cpuUsPerMessage} µs/msg (included in produce CPU).\n\n${table(results)}\n`,
  );
}
