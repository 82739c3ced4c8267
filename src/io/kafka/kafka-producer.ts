// A long-lived producer for a steady flow of lines (the demo's generator into KAFKA_TOPIC), and
// the producer settings every tidemark producer shares. Idempotent with acks=all: a retried
// request is not written twice, and within a partition the lines land in the order sent — which
// is what lets the demo's generator derive where it stopped from the topic's end offsets.
import { Producer, ProduceAcks, compatibilityPartitioner, murmur2 } from '@platformatic/kafka';
import { toKafkaError } from './kafka-driver-errors.ts';

const PRODUCER_TIMEOUT_MS = 30_000;

export interface ProduceLine {
  /** Message key (the session id for curated events); null spreads messages round-robin. */
  readonly key: string | null;
  /** Text (sent as UTF-8) or bytes sent as they are; null writes a tombstone. */
  readonly value: string | Uint8Array | null;
  /** Explicit partition (tests, replays of a known layout); default: by key. */
  readonly partition?: number;
}

export function createIdempotentProducer(brokers: readonly string[], clientId: string): Producer {
  return new Producer({
    clientId,
    bootstrapBrokers: [...brokers],
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    timeout: PRODUCER_TIMEOUT_MS,
    retries: 5,
  });
}

/**
 * The partition Kafka's Java client (and compatibilityPartitioner) picks for a key:
 * toPositive(murmur2(key)) mod partitions. Computed here so a producer can know, before sending,
 * where each line goes.
 */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

export interface LineProducer {
  /** Sends the lines (each with its partition) and resolves once all are acknowledged. */
  send(lines: readonly ProduceLine[]): Promise<void>;
  close(): Promise<void>;
}

export function openLineProducer(brokers: readonly string[], topic: string, clientId = 'tidemark-producer'): LineProducer {
  const producer = createIdempotentProducer(brokers, clientId);
  return {
    async send(lines) {
      if (lines.length === 0) return;
      try {
        await producer.send({
          messages: lines.map((line) => ({
            topic,
            key: line.key === null ? undefined : Buffer.from(line.key, 'utf8'),
            value: messageValue(line.value),
            ...(line.partition === undefined ? {} : { partition: line.partition }),
          })),
        });
      } catch (error) {
        throw toKafkaError(error, `produce to ${topic}`);
      }
    },
    async close() {
      await producer.close().catch(() => undefined);
    },
  };
}

/** The bytes a ProduceLine's value is sent as. */
export function messageValue(value: string | Uint8Array | null): Buffer | undefined {
  if (value === null) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
