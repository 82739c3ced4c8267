// Topic administration, bulk produce and error translation against a real broker.
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, deleteTopic, endOffsets, produceLines } from '../../src/io/kafka/kafka-admin.ts';
import { KafkaError, KafkaUnavailableError } from '../../src/io/kafka/kafka-errors.ts';
import { createKafkaSource } from '../../src/io/kafka/kafka-source.ts';
import { countMessages, fakeCheckpoints, kafkaTestEnv, pollUntil, testKafkaBrokers } from '../support/kafka.ts';

const brokers = testKafkaBrokers();

describe.skipIf(brokers === undefined)('kafka admin (real broker)', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  afterAll(() => kafka.cleanup());

  it('creates topics idempotently and refuses a different partition count', async () => {
    const topic = await kafka.createTopic(3);
    await createTopic(kafka.brokers, topic, 3);
    const error = await createTopic(kafka.brokers, topic, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaError);
    expect(error).toMatchObject({ code: 'KAFKA_TOPIC_PARTITIONS_MISMATCH', retriable: false });
  });

  it('produces in batches and reports end offsets per partition', async () => {
    const topic = await kafka.createTopic(3);
    expect(await endOffsets(kafka.brokers, topic)).toEqual(
      new Map([
        [0, '0'],
        [1, '0'],
        [2, '0'],
      ]),
    );
    const lines = Array.from({ length: 2500 }, (_, i) => ({ key: null, value: `{"i":${i}}`, partition: i % 3 }));
    await produceLines(kafka.brokers, topic, lines, { batchSize: 400, concurrency: 3 });
    expect(await endOffsets(kafka.brokers, topic)).toEqual(
      new Map([
        [0, '834'],
        [1, '833'],
        [2, '833'],
      ]),
    );
  });

  it('partitions keys like the Java client (murmur2, positive, modulo)', async () => {
    const topic = await kafka.createTopic(12);
    // Expected partitions computed with org.apache.kafka.common.utils.Utils.murmur2 (kafka-clients 4.1).
    const expected = new Map([
      ['s-00001', 2],
      ['s-abcde', 11],
      ['session-42', 10],
      ['tidemark', 11],
      ['ключ', 8],
    ]);
    await produceLines(
      kafka.brokers,
      topic,
      [...expected.keys()].map((key) => ({ key, value: JSON.stringify({ key }) })),
    );
    const source = createKafkaSource({ brokers: kafka.brokers, topic, groupId: kafka.groupId(), clientId: 'tidemark-test' });
    try {
      await source.start(fakeCheckpoints());
      const results = await pollUntil(source, (rs) => countMessages(rs) >= expected.size);
      const got = new Map<string, number>();
      for (const r of results) {
        if (r.kind !== 'messages') continue;
        for (const m of r.messages) got.set((JSON.parse(Buffer.from(m.value as Uint8Array).toString('utf8')) as { key: string }).key, m.partition);
      }
      expect(got).toEqual(expected);
    } finally {
      await source.close();
    }
  });

  it('deletes topics, tolerating missing ones, and names a missing topic in errors', async () => {
    const topic = await kafka.createTopic(1);
    await deleteTopic(kafka.brokers, topic);
    await deleteTopic(kafka.brokers, topic);
    // Deletion is asynchronous on the broker; the metadata catches up within moments.
    let error: unknown;
    for (let i = 0; i < 50 && error === undefined; i++) {
      error = await endOffsets(kafka.brokers, topic).then(
        () => new Promise((resolve) => setTimeout(() => resolve(undefined), 100)),
        (e: unknown) => e,
      );
    }
    expect(error).toBeInstanceOf(KafkaError);
    expect(error).toMatchObject({ code: 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
  });

  it('refuses to start against an unreachable broker: unavailable, caused by a network KafkaError', async () => {
    const source = createKafkaSource({ brokers: ['127.0.0.1:1'], topic: 'unreachable', groupId: kafka.groupId(), clientId: 'tidemark-test' });
    const error = await source.start(fakeCheckpoints()).catch((e: unknown) => e);
    await source.close();
    // At start-up nothing was consumed yet: the CLI reports it in one line and exits 69.
    expect(error).toBeInstanceOf(KafkaUnavailableError);
    expect(error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: false });
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).cause).toBeInstanceOf(KafkaError);
    expect((error as Error).cause).toMatchObject({ code: 'KAFKA_NETWORK', retriable: true });
  });
});
