// Topic administration, lag and bulk produce. Short-lived clients per call: these run at start-up,
// in tests, benchmarks and `tidemark generate`, never on the per-message path.
import { Admin, Consumer, findErrorBy } from '@platformatic/kafka';
import { KafkaError, toKafkaError } from './kafka-errors.ts';
import { createIdempotentProducer } from './kafka-producer.ts';
import { messageValue } from './kafka-producer.ts';
import type { ProduceLine } from './kafka-producer.ts';

export type { ProduceLine } from './kafka-producer.ts';

export interface ProduceLinesOptions {
  /** Messages per produce request; default 5000. */
  readonly batchSize?: number;
  /** Produce requests awaiting acks at once; default 4 (Kafka allows 5 per partition when idempotent). */
  readonly concurrency?: number;
  readonly clientId?: string;
}

const ADMIN_TIMEOUT_MS = 30_000;

/** Creates the topic, or checks that it exists with this many partitions. Waits until every partition has a leader. */
export async function createTopic(brokers: readonly string[], topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'tidemark-admin', bootstrapBrokers: [...brokers], timeout: ADMIN_TIMEOUT_MS, retries: 3 });
  try {
    try {
      // replicas -1 = the broker's default.replication.factor, so one call fits a dev broker and a cluster.
      await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
    } catch (error) {
      if (!findErrorBy(error as Error, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw error;
    }
    await waitForLeaders(admin, topic, partitions);
  } catch (error) {
    throw toKafkaError(error, `createTopic ${topic}`);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Deletes the topic; a topic that does not exist is not an error. */
export async function deleteTopic(brokers: readonly string[], topic: string): Promise<void> {
  const admin = new Admin({ clientId: 'tidemark-admin', bootstrapBrokers: [...brokers], timeout: ADMIN_TIMEOUT_MS, retries: 3 });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } catch (error) {
    if (!findErrorBy(error as Error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION')) throw toKafkaError(error, `deleteTopic ${topic}`);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Next offset to be written per partition (the high watermark; for a read_committed consumer the
 * last stable offset), as decimal strings. Lag of a partition = end offset − stored next offset.
 */
export async function endOffsets(brokers: readonly string[], topic: string): Promise<Map<number, string>> {
  // listOffsets needs no group membership: the group id is never joined.
  const consumer = new Consumer({
    clientId: 'tidemark-offsets',
    groupId: 'tidemark-offsets-unused',
    bootstrapBrokers: [...brokers],
    timeout: ADMIN_TIMEOUT_MS,
    retries: 3,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    const perPartition = offsets.get(topic);
    if (!perPartition) throw new KafkaError('KAFKA_UNKNOWN_TOPIC_OR_PARTITION', `kafka endOffsets: topic ${topic} not found`, true);
    const result = new Map<number, string>();
    perPartition.forEach((offset, partition) => result.set(partition, offset.toString()));
    return result;
  } catch (error) {
    throw toKafkaError(error, `endOffsets ${topic}`);
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

/**
 * Produces the lines in order of the input per key, in batches, and resolves once every batch is
 * acknowledged by all in-sync replicas. Idempotent producer: a retried batch is not written twice.
 * Keys go through Kafka's Java-compatible murmur2 partitioner, so a session lands on the same
 * partition whether tidemark, the Java client or kafkajs produced it.
 */
export async function produceLines(
  brokers: readonly string[],
  topic: string,
  lines: readonly ProduceLine[],
  options: ProduceLinesOptions = {},
): Promise<void> {
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const concurrency = Math.max(1, Math.min(5, options.concurrency ?? 4));
  const producer = createIdempotentProducer(brokers, options.clientId ?? 'tidemark-producer');
  try {
    let next = 0;
    // Each worker takes the next batch; batches of one key may be in flight together, which the
    // idempotent producer keeps in order per partition (sequence numbers).
    const worker = async (): Promise<void> => {
      while (next < lines.length) {
        const start = next;
        next = Math.min(lines.length, next + batchSize);
        const messages = [];
        for (let i = start; i < next; i++) {
          const line = lines[i]!;
          messages.push({
            topic,
            key: line.key === null ? undefined : Buffer.from(line.key, 'utf8'),
            value: messageValue(line.value),
            ...(line.partition === undefined ? {} : { partition: line.partition }),
          });
        }
        await producer.send({ messages });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (error) {
    throw toKafkaError(error, `produce to ${topic}`);
  } finally {
    await producer.close().catch(() => undefined);
  }
}

async function waitForLeaders(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + ADMIN_TIMEOUT_MS;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const info = metadata.topics.get(topic);
      if (info) {
        if (info.partitionsCount !== partitions) {
          throw new KafkaError(
            'KAFKA_TOPIC_PARTITIONS_MISMATCH',
            `kafka createTopic: topic ${topic} exists with ${info.partitionsCount} partitions, not ${partitions}`,
            false,
          );
        }
        if (info.partitions.every((p) => p.leader >= 0)) return;
      }
    } catch (error) {
      // Right after creation the broker may still answer UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE.
      if (error instanceof KafkaError || !isTransient(error) || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) {
      throw new KafkaError('KAFKA_TIMEOUT', `kafka createTopic: partitions of ${topic} have no leader after ${ADMIN_TIMEOUT_MS} ms`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isTransient(error: unknown): boolean {
  return toKafkaError(error, 'metadata').retriable;
}
