// Errors of the Kafka adapter. Driver errors (@platformatic/kafka) are translated into these at the
// edge (kafka-driver-errors.ts), so that the rest of tidemark decides what to do (retry with
// backoff, or stop and alert) from a stable string `code` and a `retriable` flag, never from
// driver classes or messages. This module does not load the driver: every process imports it.

export class KafkaError extends Error {
  /** Stable identifier, e.g. 'KAFKA_NETWORK', 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION'. */
  readonly code: string;
  /** True when the same operation may succeed later (broker restarting, leader moving …). */
  readonly retriable: boolean;

  constructor(code: string, message: string, retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaError';
    this.code = code;
    this.retriable = retriable;
  }
}

/**
 * The brokers stayed unreachable (or the group unjoinable) longer than the process may wait
 * (KAFKA_OUTAGE_LIMIT): the consumer stops cleanly (nothing partial was committed) so that a
 * supervisor restarts it or pages someone, instead of waiting forever in silence.
 */
export class KafkaOutageError extends KafkaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KAFKA_OUTAGE', message, false, options);
    this.name = 'KafkaOutageError';
  }
}

/** The brokers could not be reached when the consumer started (exit 69, as for any service at start). */
export class KafkaUnavailableError extends KafkaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KAFKA_UNAVAILABLE', message, false, options);
    this.name = 'KafkaUnavailableError';
  }
}
