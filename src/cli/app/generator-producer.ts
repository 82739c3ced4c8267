// The demo's generator as a Kafka producer (`tidemark demo` with KAFKA_BROKERS): the live
// generator's traffic goes into KAFKA_TOPIC, and the demo's stream and archive read it back
// through the same Kafka sources as `tidemark stream` / `tidemark archive`.
//
// Resuming after a restart (or a crash) without duplicating or skipping: where the generator
// stopped is derived from the topic itself rather than from a counter we keep. A counter saved
// after each acknowledged send could lag the topic by one send (crash between the ack and the
// save: duplicates), and a send that reached some partitions but not others has no single "next
// offset" at all. Instead every line is sent to the partition its key hashes to, one request at a
// time on an idempotent producer, so each partition holds an exact prefix of the lines of the
// sequence that hash to it. At start the generator regenerates its sequence from the beginning
// and, per partition, skips as many lines as that partition gained since the demo first produced
// into the topic (end offset now − end offset then, the latter stored in generator_producers
// together with the generator's parameters). The topic is assumed to be the demo's own: lines
// someone else writes into it would be counted as the generator's.
import type { Database } from '../../io/db/database.ts';
import type { LiveGeneratorSource } from '../../io/generator/generator-source.ts';
import { createTopic, endOffsets } from '../../io/kafka/kafka-admin.ts';
import { KafkaError } from '../../io/kafka/kafka-errors.ts';
import { openLineProducer, partitionOfKey } from '../../io/kafka/kafka-producer.ts';
import type { ProduceLine } from '../../io/kafka/kafka-producer.ts';
import type { Logger } from '../../io/log.ts';
import { StartupError } from '../command.ts';
import type { Component } from './components.ts';

export interface GeneratorProducerOptions {
  readonly db: Database;
  readonly brokers: readonly string[];
  readonly topic: string;
  /** The source name of a new sequence, for a first start on this topic. */
  readonly freshSource: () => string;
  /** The generator for a stored source name; undefined when the name is not one it can regenerate. */
  readonly openSource: (name: string) => LiveGeneratorSource | undefined;
  /** Partitions of the topic when it does not exist yet. */
  readonly partitionsIfMissing: number;
  readonly log: Logger;
  /** Lines per produce request (default 5000). */
  readonly batchSize?: number;
}

export interface GeneratorProducer {
  readonly component: Component;
  /** Lines due by now that are not in the topic yet (part of the demo's lag). */
  backlog(): number;
}

type Offsets = Record<string, string>;

async function topicEnds(brokers: readonly string[], topic: string, partitionsIfMissing: number, log: Logger): Promise<Map<number, string>> {
  try {
    return await endOffsets(brokers, topic);
  } catch (error) {
    if (!(error instanceof KafkaError) || error.code !== 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION') throw error;
    log.info('creating the topic for the generated traffic', { topic, partitions: partitionsIfMissing });
    await createTopic(brokers, topic, partitionsIfMissing);
    return endOffsets(brokers, topic);
  }
}

export function generatorProducer(options: GeneratorProducerOptions): GeneratorProducer {
  const { db, brokers, topic, log } = options;
  let source: LiveGeneratorSource | undefined;
  let skipping = 0;

  /** The stored sequence and base offsets of this topic, recorded now if this is the first start. */
  const claim = async (ends: ReadonlyMap<number, string>): Promise<{ name: string; base: Offsets }> => {
    const base: Offsets = Object.fromEntries([...ends].map(([p, o]) => [String(p), o]));
    // ON CONFLICT: a row already there (an earlier start) wins; it is read back below.
    await db.query(
      `INSERT INTO generator_producers (topic, source, base_offsets) VALUES ($1, $2, $3::jsonb) ON CONFLICT (topic) DO NOTHING`,
      [topic, options.freshSource(), JSON.stringify(base)],
    );
    const { rows } = await db.query<{ source: string; base_offsets: Offsets }>(`SELECT source, base_offsets FROM generator_producers WHERE topic = $1`, [topic]);
    return { name: rows[0]!.source, base: rows[0]!.base_offsets };
  };

  const component: Component = {
    name: 'generator-producer',
    async run(signal, started) {
      const ends = await topicEnds(brokers, topic, options.partitionsIfMissing, log);
      const { name, base } = await claim(ends);
      const partitions = ends.size;
      if (Object.keys(base).length !== partitions) {
        throw new StartupError(`KAFKA_TOPIC: ${topic} has ${partitions} partitions, but the demo started producing into it when it had ${Object.keys(base).length}; use a new topic`);
      }
      const live = options.openSource(name);
      if (live === undefined) throw new StartupError(`KAFKA_TOPIC: ${topic} holds a generated sequence this version cannot regenerate (${name}); use a new topic`);
      // Lines of the sequence each partition already holds: skipped while regenerating.
      const skip = Array.from({ length: partitions }, (_, p) => Math.max(0, Number(ends.get(p) ?? 0) - Number(base[String(p)] ?? 0)));
      skipping = skip.reduce((a, b) => a + b, 0);
      log.info('producing the generated traffic into Kafka', { topic, source: name, alreadyInTopic: skipping });
      await live.start({ offsetsFor: async () => new Map([[0, null]]) });
      source = live;
      const producer = openLineProducer(brokers, topic, 'tidemark-demo-generator');
      const wake = (): void => void live.close();
      signal.addEventListener('abort', wake, { once: true });
      started();
      try {
        while (!signal.aborted) {
          const poll = await live.poll(options.batchSize ?? 5000, 1000);
          if (poll.kind !== 'messages') continue;
          const lines: ProduceLine[] = [];
          for (const message of poll.messages) {
            const key = message.key ?? null;
            const partition = key === null ? 0 : partitionOfKey(key, partitions);
            if (skip[partition]! > 0) {
              skip[partition]!--;
              skipping--;
              continue;
            }
            lines.push({ key, value: typeof message.value === 'string' ? message.value : null, partition });
          }
          // One request at a time: per partition the topic then holds a prefix of the sequence.
          await producer.send(lines);
        }
      } finally {
        signal.removeEventListener('abort', wake);
        await producer.close();
        await live.close();
      }
    },
  };
  return {
    component,
    // Lines still to be skipped are due but already in the topic: not backlog.
    backlog: () => (source === undefined ? 0 : Math.max(0, source.backlog() - skipping)),
  };
}
