// Where the demo's traffic comes from: the built-in live generator, read directly by the stream
// and the archive (each regenerating the same sequence, resumed from their checkpoints), or —
// with KAFKA_BROKERS — produced into KAFKA_TOPIC and consumed from there through the same Kafka
// sources as `tidemark stream` / `tidemark archive`. The generator's parameters are stored (in
// the checkpoint's source name, or in generator_producers) so that a restart regenerates the
// same sequence.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { createLiveGeneratorSource } from '../../io/generator/generator-source.ts';
import type { LiveGeneratorSource } from '../../io/generator/generator-source.ts';
import { createLogger } from '../../io/log.ts';
import type { Logger } from '../../io/log.ts';
import type { MessageSource } from '../../io/source.ts';
import type { Component } from './components.ts';
import type { GeneratorProducer } from './generator-producer.ts';
import { streamLag } from './consumer-lag.ts';
import type { EndOffsets } from './consumer-lag.ts';

export const DEMO_CONSUMER = 'demo';
/** The archive writer's checkpoint name: its offsets are its own, apart from the stream's. */
export const DEMO_ARCHIVE_CONSUMER = 'demo-archive';
const LIVE_PREFIX = 'generator:live:';

/**
 * A short prelude of traffic a day before the history, so that the daily flow run at start-up
 * has a yesterday to compute. It does not give the 24 h clinical trend a previous day: a
 * percentage against ten minutes would be a false alarm, so the console shows the trend as n/a
 * until the data cover both days (mart-queries.ts, previous_window_complete).
 */
const PRELUDE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
/** Partitions of KAFKA_TOPIC when the demo has to create it: enough to show a consumer group at work. */
export const DEMO_TOPIC_PARTITIONS = 3;

/** Generator parameters, stored in the source name so that a restart regenerates the same sequence. */
export interface LiveParams {
  /** Start of the prelude; it lasts PRELUDE_MS, then nothing until historyMs. */
  readonly startMs: number;
  /** Start of the history that runs into live traffic. */
  readonly historyMs: number;
  readonly seed: number;
  readonly rate: number;
  readonly anomalyEveryMs: number;
}

function liveName(p: LiveParams): string {
  return `live:${p.startMs}:${p.historyMs}:${p.seed}:${p.rate}:${p.anomalyEveryMs}`;
}

function parseLiveSource(source: string): LiveParams | undefined {
  const parts = source.slice(LIVE_PREFIX.length).split(':').map(Number);
  if (parts.length !== 5 || !parts.every(Number.isSafeInteger)) return undefined;
  const [startMs, historyMs, seed, rate, anomalyEveryMs] = parts as [number, number, number, number, number];
  return { startMs, historyMs, seed, rate, anomalyEveryMs };
}

async function resumeOrStart(db: Database, config: TidemarkConfig, log: Logger): Promise<LiveParams> {
  const { rows } = await db.query<{ source: string }>(
    `SELECT source FROM stream_partitions WHERE consumer = $1 AND starts_with(source, $2) ORDER BY updated_at DESC LIMIT 1`,
    [DEMO_CONSUMER, LIVE_PREFIX],
  );
  const stored = rows[0] === undefined ? undefined : parseLiveSource(rows[0].source);
  if (stored !== undefined) {
    log.info('resuming the generated sequence from its checkpoint', { source: rows[0]!.source });
    return stored;
  }
  return freshParams(config);
}

function freshParams(config: TidemarkConfig): LiveParams {
  // Whole minutes, so the first traffic minute is complete.
  const historyMs = Math.floor((Date.now() - config.generator.backfillMs) / 60_000) * 60_000;
  const startMs = historyMs - DAY_MS;
  return { startMs, historyMs, seed: (historyMs / 60_000) % 1_000_000, rate: config.generator.eventsPerSecond, anomalyEveryMs: config.generator.anomalyEveryMs };
}

/** How the demo's stream and archive get the generated traffic, and how far behind the stream is. */
export interface DemoFeed {
  readonly streamSource: MessageSource | (() => MessageSource);
  readonly streamConsumer: string;
  readonly archiveSource: () => MessageSource;
  readonly archiveConsumer: string;
  readonly logEndOffsets?: EndOffsets;
  /** The generator's producer (Kafka only), started before the consumers. */
  readonly producer?: Component;
  /** Told the stream's next offset after each commit (the generator feed's lag counts from it). */
  readonly onCommit?: (nextOffset: number) => void;
  lag(): Promise<number>;
}

/** The generator read directly: the stream and the archive each regenerate the same sequence. */
async function generatorFeed(db: Database, config: TidemarkConfig, log: Logger): Promise<DemoFeed> {
  const params = await resumeOrStart(db, config, log);
  const source = liveDemoSource(params);
  let committed = 0;
  return {
    streamSource: source,
    streamConsumer: DEMO_CONSUMER,
    // Its own generator with the stream's parameters: the very messages the stream reads.
    archiveSource: () => liveDemoSource(params),
    archiveConsumer: DEMO_ARCHIVE_CONSUMER,
    // Lag = messages due by now that the stream has not committed yet (tracked from its commits).
    lag: async () => source.backlog() + Math.max(0, source.nextOffset() - committed),
    onCommit: (nextOffset) => {
      committed = Math.max(committed, nextOffset);
    },
  };
}

/**
 * The demo's live generator producing into KAFKA_TOPIC (the demo with KAFKA_BROKERS, and
 * `tidemark generate --kafka --follow`, compose's generator service); a restart resumes the sequence.
 */
export async function demoGeneratorProducer(db: Database, config: TidemarkConfig): Promise<GeneratorProducer> {
  // The Kafka driver is loaded only on this path (KAFKA_BROKERS set).
  const { generatorProducer } = await import('./generator-producer.ts');
  return generatorProducer({
    db,
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    // The source name the generator gives itself: generator:live:<parameters>.
    freshSource: () => `generator:${liveName(freshParams(config))}`,
    openSource: demoGeneratorFor,
    partitionsIfMissing: DEMO_TOPIC_PARTITIONS,
    log: createLogger(config.log.level, { component: 'generator-producer', topic: config.kafka.topic }),
  });
}

/** KAFKA_BROKERS set: the generator produces into KAFKA_TOPIC; stream and archive consume it as in production. */
async function kafkaFeed(db: Database, config: TidemarkConfig): Promise<DemoFeed> {
  const { kafkaArchiveSource, kafkaStreamSource, topicEndOffsets } = await import('./kafka-sources.ts');
  const producer = await demoGeneratorProducer(db, config);
  const ends = topicEndOffsets(config);
  return {
    streamSource: kafkaStreamSource(config),
    streamConsumer: config.kafka.groupId,
    archiveSource: kafkaArchiveSource(config),
    archiveConsumer: config.kafka.archiveGroupId,
    logEndOffsets: ends,
    producer: producer.component,
    // In the topic but not committed by the stream, plus due but not yet produced.
    lag: async () => (await streamLag(db, config.kafka.groupId, `kafka:${config.kafka.topic}`, ends)) + producer.backlog(),
  };
}

/** The demo's generator for a stored source name (generator:live:…), or undefined for another name. */
export function demoGeneratorFor(source: string): LiveGeneratorSource | undefined {
  const params = source.startsWith(LIVE_PREFIX) ? parseLiveSource(source) : undefined;
  return params === undefined ? undefined : liveDemoSource(params);
}

/** `clock` decides which messages are due; the embedded benchmark runs it ahead of the wall clock to play days of traffic. */
export function liveDemoSource(params: LiveParams, clock?: () => number): LiveGeneratorSource {
  return createLiveGeneratorSource({
    name: liveName(params),
    ...(clock === undefined ? {} : { clock }),
    generator: {
      startMs: params.startMs,
      eventsPerSecond: params.rate,
      seed: params.seed,
      anomalyEveryMs: params.anomalyEveryMs,
      loadCurve: true,
      quiet: { fromMs: params.startMs + PRELUDE_MS, toMs: params.historyMs },
      // A trickle of bad input, so dead letters, late events and dedup show on the console.
      lateEvery: 997,
      duplicateEvery: 499,
      malformedEvery: 1999,
    },
  });
}

/** The generator read directly, or through KAFKA_TOPIC when KAFKA_BROKERS is set. */
export async function demoFeed(db: Database, config: TidemarkConfig, log: Logger): Promise<DemoFeed> {
  return config.kafka.brokers.length > 0 ? kafkaFeed(db, config) : generatorFeed(db, config, log);
}
