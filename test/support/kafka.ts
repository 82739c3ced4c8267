// Kafka for integration tests: the real broker named by TEST_KAFKA_BROKERS (comma-separated
// host:port, written by `scripts/services.sh up` to .services/env.sh). Outside CI a missing variable
// skips the Kafka suites; under CI it fails them, since a suite that silently skips proves nothing.
//
// Usage:
//   const brokers = testKafkaBrokers();
//   describe.skipIf(brokers === undefined)('…', () => {
//     const kafka = kafkaTestEnv(brokers!);
//     afterAll(() => kafka.cleanup());
//     it('…', async () => { const topic = await kafka.createTopic(3); … });
//   });
import { randomUUID } from 'node:crypto';
import type { SourceHooks, SourcePoll, MessageSource } from '../../src/io/source.ts';
import { createTopic, deleteTopic } from '../../src/io/kafka/kafka-admin.ts';

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export function testKafkaBrokers(): string[] | undefined {
  const raw = process.env['TEST_KAFKA_BROKERS']?.trim();
  if (raw !== undefined && raw !== '') {
    return raw
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
  }
  if (isCi()) {
    throw new Error(
      'TEST_KAFKA_BROKERS is not set under CI: the Kafka integration tests would be skipped. ' +
        'Run `bash scripts/services.sh up && source .services/env.sh` first.',
    );
  }
  return undefined;
}

export interface KafkaTestEnv {
  readonly brokers: string[];
  /** A fresh topic `tidemark-test-<uuid>`, deleted by cleanup(). */
  createTopic(partitions: number): Promise<string>;
  /** A consumer group id no other test shares. */
  groupId(): string;
  /** Deletes every topic this env created. Safe to call twice. */
  cleanup(): Promise<void>;
}

export function kafkaTestEnv(brokers: string[]): KafkaTestEnv {
  const topics = new Set<string>();
  return {
    brokers,
    async createTopic(partitions) {
      const topic = `tidemark-test-${randomUUID()}`;
      topics.add(topic);
      await createTopic(brokers, topic, partitions);
      return topic;
    },
    groupId: () => `tidemark-test-group-${randomUUID()}`,
    async cleanup() {
      const all = [...topics];
      topics.clear();
      await Promise.all(all.map((t) => deleteTopic(brokers, t)));
    },
  };
}

/** offsetsFor backed by a Map, standing in for the checkpoint table; records every call. */
export interface FakeCheckpoints extends SourceHooks {
  readonly offsets: Map<number, string | null>;
  readonly calls: { partitions: number[]; returned: Map<number, string | null> }[];
}

export function fakeCheckpoints(initial: Iterable<[number, string | null]> = []): FakeCheckpoints {
  const offsets = new Map(initial);
  const calls: FakeCheckpoints['calls'] = [];
  return {
    offsets,
    calls,
    async offsetsFor(_source, partitions) {
      const returned = new Map(partitions.map((p) => [p, offsets.get(p) ?? null] as const));
      calls.push({ partitions: [...partitions], returned });
      return returned;
    },
  };
}

/** Polls until `done` returns true for the results so far, or throws after timeoutMs. */
export async function pollUntil(
  source: MessageSource,
  done: (results: readonly SourcePoll[]) => boolean,
  { timeoutMs = 30_000, maxMessages = 500, each }: { timeoutMs?: number; maxMessages?: number; each?: (r: SourcePoll) => void } = {},
): Promise<SourcePoll[]> {
  const results: SourcePoll[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(results)) {
    if (Date.now() > deadline) throw new Error(`pollUntil: timed out after ${timeoutMs} ms with ${results.length} results`);
    const r = await source.poll(maxMessages, 200);
    if (r.kind === 'messages' && r.messages.length === 0) continue;
    results.push(r);
    each?.(r);
  }
  return results;
}

export function countMessages(results: readonly SourcePoll[]): number {
  let n = 0;
  for (const r of results) if (r.kind === 'messages') n += r.messages.length;
  return n;
}
