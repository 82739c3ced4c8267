// The demo's producer picks each line's partition itself (so it can tell, after a restart, how
// much of the sequence each partition holds): it must be the partition Kafka's Java-compatible
// partitioner picks for the key, so keyed traffic lands where any other producer would put it.
import { compatibilityPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { generateClicks } from '../../src/io/generator/click-generator.ts';
import { createLiveGeneratorSource } from '../../src/io/generator/generator-source.ts';
import { partitionOfKey } from '../../src/io/kafka/kafka-producer.ts';

describe('partitionOfKey', () => {
  it('agrees with the Java-compatible partitioner for 1, 3 and 12 partitions', () => {
    const keys = ['s-1', 'session-42', 'malformed', '', 'ünïcode-ключ', ...Array.from({ length: 200 }, (_, i) => `sess-${i * 7919}`)];
    for (const partitions of [1, 3, 12]) {
      const ours = keys.map((key) => partitionOfKey(key, partitions));
      const theirs = keys.map((key) => (compatibilityPartitioner as (m: unknown, k: Buffer) => number)(undefined, Buffer.from(key, 'utf8')) % partitions);
      expect(ours).toEqual(theirs);
    }
  });
});

describe('the live generator source', () => {
  it('hands over each message with the key the generator gave it', async () => {
    const generator = { startMs: 0, eventsPerSecond: 10, seed: 5, anomalyEveryMs: 60_000, malformedEvery: 7 };
    const source = createLiveGeneratorSource({ name: 'keys', generator, clock: () => 1_000_000 });
    await source.start({ offsetsFor: async () => new Map([[0, null]]) });
    expect(await source.poll(0, 0)).toEqual({ kind: 'assigned', source: 'generator:keys', partitions: [0] });
    const poll = await source.poll(50, 0);
    const expected: [string, string][] = [];
    for (const click of generateClicks(generator)) {
      expected.push([click.key, click.value]);
      if (expected.length === 50) break;
    }
    expect(poll.kind === 'messages' ? poll.messages.map((m) => [m.key, m.value]) : []).toEqual(expected);
    await source.close();
  });
});
