// The Kafka sources of the hot and cold paths, built one way for every process that reads
// KAFKA_TOPIC: `tidemark stream`, `tidemark archive`, and `tidemark demo` with KAFKA_BROKERS.
// Each call builds a fresh source (a component restarts with a new consumer), and lag is always
// the topic's end offsets minus the offsets a consumer has committed to the database.
import type { TidemarkConfig } from '../../config.ts';
import type { Queryable } from '../../io/db/database.ts';
import { alignByEventTime } from '../../io/event-time-aligned-source.ts';
import { endOffsets } from '../../io/kafka/kafka-admin.ts';
import { KafkaError } from '../../io/kafka/kafka-errors.ts';
import { createKafkaSource, kafkaLoggerFrom } from '../../io/kafka/kafka-source.ts';
import { createLogger } from '../../io/log.ts';
import type { MessageSource } from '../../io/source.ts';

export type EndOffsets = () => Promise<ReadonlyMap<number, string>>;

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

/** Messages in the topic that `consumer` has not committed yet (its stream_partitions checkpoint). */
export async function streamLag(db: Queryable, consumer: string, source: string, ends: EndOffsets): Promise<number> {
  return committedLag(db, 'stream_partitions', consumer, source, ends);
}

/** Messages in the topic the archive writer `consumer` has not committed to the lake yet. */
export async function archiveLag(db: Queryable, consumer: string, source: string, ends: EndOffsets): Promise<number> {
  return committedLag(db, 'archive_partitions', consumer, source, ends);
}

async function committedLag(db: Queryable, table: 'stream_partitions' | 'archive_partitions', consumer: string, source: string, ends: EndOffsets): Promise<number> {
  const end = await ends();
  const { rows } = await db.query<{ kafka_partition: number; next_offset: string | null }>(
    `SELECT kafka_partition, next_offset FROM ${table} WHERE consumer = $1 AND source = $2`,
    [consumer, source],
  );
  const committed = new Map(rows.map((r) => [r.kafka_partition, Number(r.next_offset ?? 0)]));
  let total = 0;
  for (const [partition, offset] of end) total += Math.max(0, Number(offset) - (committed.get(partition) ?? 0));
  return total;
}
