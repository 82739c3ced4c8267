// Driver errors (@platformatic/kafka) translated into KafkaError (kafka-errors.ts) at the edge: only
// the modules that talk to Kafka import this one, so a process without Kafka never loads the driver.
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UnsupportedApiError,
  UserError,
} from '@platformatic/kafka';
import { KafkaError } from './kafka-errors.ts';

// Protocol errors the driver marks as final but that clear up on their own in a running cluster
// (topic just created, group coordinator moving, a rebalance racing a request).
const TRANSIENT_PROTOCOL_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'THROTTLING_QUOTA_EXCEEDED',
]);

/**
 * Translates anything thrown by the driver into a KafkaError. `operation` names what failed
 * ('consume', 'createTopic' …) and prefixes the message, since driver messages lack context.
 */
export function toKafkaError(error: unknown, operation: string): KafkaError {
  if (error instanceof KafkaError) return error;
  const { code, retriable } = classify(error);
  const detail = describe(error);
  return new KafkaError(code, `kafka ${operation} failed: ${detail}`, retriable, { cause: error });
}

function classify(error: unknown): { code: string; retriable: boolean } {
  // TimeoutError reuses NetworkError's code in the driver, so it is tested first.
  if (error instanceof TimeoutError) return { code: 'KAFKA_TIMEOUT', retriable: true };
  if (error instanceof NetworkError) return { code: 'KAFKA_NETWORK', retriable: true };
  if (error instanceof AuthenticationError) return { code: 'KAFKA_AUTHENTICATION', retriable: false };
  if (error instanceof UnsupportedApiError) return { code: 'KAFKA_UNSUPPORTED_BROKER', retriable: false };
  if (error instanceof ProtocolError) {
    const apiId = String((error as unknown as { apiId?: unknown }).apiId ?? 'PROTOCOL');
    const canRetry = (error as unknown as { canRetry?: unknown }).canRetry === true;
    return { code: `KAFKA_${apiId}`, retriable: canRetry || TRANSIENT_PROTOCOL_ERRORS.has(apiId) };
  }
  if (error instanceof MultipleErrors) {
    // A request fanned out to several brokers or retried several times: the first inner error
    // names the cause; the whole is retriable only when every inner error is.
    const inner = error.errors.filter((e): e is unknown => e != null).map(classify);
    if (inner.length === 0) return { code: 'KAFKA_UNKNOWN', retriable: false };
    return { code: inner[0]!.code, retriable: inner.every((c) => c.retriable) };
  }
  if (error instanceof UserError) {
    // The driver turns a metadata UNKNOWN_TOPIC_OR_PARTITION into a UserError that only its message
    // tells apart; a topic that does not exist yet may be created, so it is worth a retry.
    if (error.message.startsWith('Unknown topic ')) return { code: 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION', retriable: true };
    return { code: 'KAFKA_INVALID_REQUEST', retriable: false };
  }
  if (isNodeSocketError(error)) return { code: 'KAFKA_NETWORK', retriable: true };
  return { code: 'KAFKA_UNKNOWN', retriable: false };
}

function isNodeSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code);
}

function describe(error: unknown): string {
  // Retries nest MultipleErrors several levels deep, each repeating its children in its message;
  // the distinct leaves say what actually went wrong.
  if (error instanceof MultipleErrors) {
    const leaves = [...new Set(leafErrors(error).map(describe))];
    return leaves.length > 0 ? leaves.slice(0, 3).join('; ') : error.message;
  }
  if (error instanceof Error) {
    const server = (error as { serverErrorMessage?: unknown }).serverErrorMessage;
    return typeof server === 'string' && server !== '' ? `${error.message}: ${server}` : error.message;
  }
  return String(error);
}

function leafErrors(error: MultipleErrors): unknown[] {
  return error.errors.flatMap((e: unknown) => (e instanceof MultipleErrors ? leafErrors(e) : e == null ? [] : [e]));
}
