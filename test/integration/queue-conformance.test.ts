// The queue port's conformance suite on both adapters: in-process, and BullMQ on the shared Redis
// (one queue name per test, so concurrent runs never collide).
import { randomUUID } from 'node:crypto';
import { createBullmqQueue } from '../../src/io/queue/bullmq-queue.ts';
import { createInProcessQueue } from '../../src/io/queue/in-process-queue.ts';
import { queueConformanceSuite } from '../support/queue-conformance.ts';
import { testRedisUrl } from '../support/redis.ts';

queueConformanceSuite({ label: 'in-process', create: async (retry) => createInProcessQueue({ retry }) });

queueConformanceSuite({
  label: 'bullmq',
  create: async (retry) => createBullmqQueue({ redisUrl: testRedisUrl(), queueName: `test-${randomUUID()}`, retry }),
});
