// Topic administration, lag and bulk produce. Short-lived clients per call: these run at start-up,
// in tests, benchmarks and `tidemark generate`, never on the per-message path.
import { Admin, Consumer, findErrorBy } from '@platformatic/kafka';
import { toKafkaError } from './kafka-driver-errors.ts';
import { KafkaError } from './kafka-errors.ts';
import { createIdempotentProducer } from './kafka-producer.ts';
import { messageValue, partitionOfKey } from './kafka-producer.ts';
import type { ProduceLine } from './kafka-producer.ts';

export type { ProduceLine } from './kafka-producer.ts';

export interface ProduceLinesOptions {
  /** Messages per produce request; default 5000. */
  readonly batchSize?: number;
  /** Partitions produced to at once (one request in flight per partition); default 4. */
  readonly concurrency?: number;
  readonly clientId?: string;
}

const ADMIN_TIMEOUT_MS = 30_000;
// A produce request holds one record batch per partition; the broker refuses batches over
// message.max.bytes (1 MiB by default), so requests stay well below it.
const MAX_REQUEST_BYTES = 512 * 1024;
const RECORD_OVERHEAD_BYTES = 24;

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
 * Produces the lines, keeping their input order within each partition, in batches, and resolves
 * once every batch is acknowledged by all in-sync replicas. Idempotent producer: a retried batch
 * is not written twice.
 *
 * Order within a partition is what defines lateness (SPEC §3), so it must be the input's. Two
 * produce calls in flight for one partition are not ordered by the client (a CI run saw the
 * second batch of a partition land first), so each partition's batches go one after another;
 * different partitions are sent concurrently. Lines without key or partition are spread
 * round-robin by position.
 */
export async function produceLines(
  brokers: readonly string[],
  topic: string,
  lines: readonly ProduceLine[],
  options: ProduceLinesOptions = {},
): Promise<void> {
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const concurrency = Math.max(1, Math.min(8, options.concurrency ?? 4));
  const partitions = (await endOffsets(brokers, topic)).size;
  const byPartition: ProduceLine[][] = Array.from({ length: partitions }, () => []);
  lines.forEach((line, i) => {
    const partition = line.partition ?? (line.key === null ? i % partitions : partitionOfKey(line.key, partitions));
    const queue = byPartition[partition];
    if (queue === undefined) throw new KafkaError('KAFKA_UNKNOWN_TOPIC_OR_PARTITION', `produce to ${topic}: partition ${partition} does not exist`, false);
    queue.push({ ...line, partition });
  });
  const producer = createIdempotentProducer(brokers, options.clientId ?? 'tidemark-producer');
  try {
    let nextPartition = 0;
    const worker = async (): Promise<void> => {
      while (nextPartition < partitions) {
        const queue = byPartition[nextPartition++]!;
        let messages = [];
        let bytes = 0;
        for (const line of queue) {
          const value = messageValue(line.value);
          const key = line.key === null ? undefined : Buffer.from(line.key, 'utf8');
          const size = (value?.byteLength ?? 0) + (key?.byteLength ?? 0) + RECORD_OVERHEAD_BYTES;
          if (messages.length > 0 && (messages.length >= batchSize || bytes + size > MAX_REQUEST_BYTES)) {
            await producer.send({ messages });
            messages = [];
            bytes = 0;
          }
          messages.push({ topic, key, value, partition: line.partition! });
          bytes += size;
        }
        if (messages.length > 0) await producer.send({ messages });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, partitions) }, worker));
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
