// The Kafka sources of the hot and cold paths, built one way for every process that reads
// KAFKA_TOPIC: `tidemark stream`, `tidemark archive`, and `tidemark demo` with KAFKA_BROKERS.
// Each call builds a fresh source (a component restarts with a new consumer), and lag is always
// the topic's end offsets minus the offsets a consumer has committed to the database.
import type { TidemarkConfig } from '../../config.ts';
import { alignByEventTime } from '../../io/event-time-aligned-source.ts';
import { endOffsets } from '../../io/kafka/kafka-admin.ts';
import { KafkaError } from '../../io/kafka/kafka-errors.ts';
import { createKafkaSource, kafkaLoggerFrom } from '../../io/kafka/kafka-source.ts';
import { createLogger } from '../../io/log.ts';
import type { MessageSource } from '../../io/source.ts';

import type { EndOffsets } from './consumer-lag.ts';

export type { EndOffsets } from './consumer-lag.ts';

/** While the brokers do not answer, the last end offsets are reused and asked again this often. */
const END_OFFSETS_RETRY_MS = 5000;

/**
 * KAFKA_TOPIC's end offsets on KAFKA_BROKERS. During a broker outage the last answer stands in
 * (the ends only say how far behind a partition is: the consumers ride the outage out and must
 * not fail on a hint), and the brokers are asked again every few seconds, not on every call.
 */
export function topicEndOffsets(config: TidemarkConfig): EndOffsets {
  const brokers = [...config.kafka.brokers];
  const topic = config.kafka.topic;
  let last: ReadonlyMap<number, string> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (last !== undefined && Date.now() - failedAt < END_OFFSETS_RETRY_MS) return last;
    try {
      last = await endOffsets(brokers, topic);
      failedAt = Number.NEGATIVE_INFINITY;
      return last;
    } catch (error) {
      if (last === undefined || !(error instanceof KafkaError) || !error.retriable) throw error;
      failedAt = Date.now();
      return last;
    }
  };
}

/** The stream's source: group KAFKA_GROUP_ID, partitions handed over in event-time order (so lateness does not depend on fetch order). */
export function kafkaStreamSource(config: TidemarkConfig): () => MessageSource {
  const brokers = [...config.kafka.brokers];
  const topic = config.kafka.topic;
  return () =>
    alignByEventTime(
      createKafkaSource({
        brokers,
        topic,
        groupId: config.kafka.groupId,
        clientId: config.kafka.clientId,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        outageLimitMs: config.kafka.outageLimitMs,
        ...(config.kafka.groupInstanceId === null ? {} : { groupInstanceId: config.kafka.groupInstanceId }),
        logger: kafkaLoggerFrom(createLogger(config.log.level, { component: 'kafka', group: config.kafka.groupId })),
      }),
      { endOffsets: topicEndOffsets(config), maxFutureSkewMs: config.stream.maxFutureSkewMs },
    );
}

/** The archive writer's source: group KAFKA_ARCHIVE_GROUP_ID, in fetch order (the lake is keyed by offset, not time). */
export function kafkaArchiveSource(config: TidemarkConfig): () => MessageSource {
  const brokers = [...config.kafka.brokers];
  return () =>
    createKafkaSource({
      brokers,
      topic: config.kafka.topic,
      groupId: config.kafka.archiveGroupId,
      clientId: `${config.kafka.clientId}-archive`,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      outageLimitMs: config.kafka.outageLimitMs,
      // Instance ids are scoped to their group: the stream's id can be reused here.
      ...(config.kafka.groupInstanceId === null ? {} : { groupInstanceId: config.kafka.groupInstanceId }),
      logger: kafkaLoggerFrom(createLogger(config.log.level, { component: 'kafka', group: config.kafka.archiveGroupId })),
    });
}
