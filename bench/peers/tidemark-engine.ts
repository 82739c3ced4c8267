// tidemark as one engine of bench:peers, in a process of its own so that its CPU and memory are
// measured like the JVMs': the stream runner over the topic from its earliest offsets into
// PostgreSQL (as bench:stream's backlog phase), until every produced event is applied.
//
// Env: PEER_DATABASE_URL, PEER_BROKERS, PEER_TOPIC, PEER_EVENTS, PEER_CONSUMER.
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { alignByEventTime } from '../../src/io/event-time-aligned-source.ts';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { createLogger } from '../../src/io/log.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};
const brokers = env('PEER_BROKERS').split(',');
const topic = env('PEER_TOPIC');
const events = Number(env('PEER_EVENTS'));
const consumer = env('PEER_CONSUMER');
const db = createPgDatabase(env('PEER_DATABASE_URL'));
const stop = new AbortController();
let done = 0;
const summary = await runStream({
  db,
  source: alignByEventTime(createKafkaSource({ brokers, topic, groupId: consumer, clientId: 'bench-peers' }), { endOffsets: () => endOffsets(brokers, topic) }),
  consumer,
  settings: { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 },
  batchMaxMessages: 5000,
  batchMaxWaitMs: 100,
  log: createLogger('error'),
  logEndOffsets: () => endOffsets(brokers, topic),
  signal: stop.signal,
  onCommit: (batch) => {
    done += batch.applied + batch.lateEvents.length;
    if (done >= events) stop.abort();
  },
});
await db.close();
process.stdout.write(`${JSON.stringify({ messages: summary.messages, applied: summary.applied, late: summary.lateEvents })}\n`);
process.exit(0);
