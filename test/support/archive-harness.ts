// Helpers for acceptance tests that run `tidemark archive` processes against real Kafka, S3 and
// PostgreSQL: the environment they get, and waiting until they have committed every offset.
import type { Queryable } from '../../src/io/db/database.ts';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';
import type { TestS3 } from './s3.ts';

export function archiveEnv(options: {
  databaseUrl: string;
  brokers: readonly string[];
  topic: string;
  groupId: string;
  s3: TestS3;
  prefix: string;
  suite: MartSuite;
  flushRows: number;
  flushInterval: string;
}): Record<string, string> {
  return {
    ...options.s3.env,
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    KAFKA_TOPIC: options.topic,
    KAFKA_ARCHIVE_GROUP_ID: options.groupId,
    KAFKA_SESSION_TIMEOUT: '6s',
    // Static membership: a restarted archiver takes its partitions back at once.
    KAFKA_GROUP_INSTANCE_ID: 'archiver-under-test',
    LAKE_URL: `s3://${options.s3.bucket}/${options.prefix}`,
    MART_TIMEZONE: options.suite.settings.timeZone,
    WATERMARK_DELAY: `${options.suite.watermarkDelayMs}ms`,
    MAX_FUTURE_SKEW: `${options.suite.maxFutureSkewMs}ms`,
    // No partition goes idle during a test: the watermark is the plain minimum over partitions.
    IDLE_PARTITION_TIMEOUT: '1h',
    ARCHIVE_FLUSH_ROWS: String(options.flushRows),
    ARCHIVE_FLUSH_INTERVAL: options.flushInterval,
    LOG_LEVEL: 'info',
  };
}

/** Sum of committed next offsets over the group's partitions of the topic. */
export async function archivedOffsets(db: Queryable, groupId: string, topic: string): Promise<number> {
  const result = await db.query<{ n: string | null }>(
    `SELECT sum(next_offset)::text AS n FROM archive_partitions WHERE consumer = $1 AND source = $2`,
    [groupId, `kafka:${topic}`],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Waits until the archive has committed every offset the topic holds. */
export async function waitForArchiveCatchUp(
  db: Queryable,
  brokers: readonly string[],
  groupId: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<number> {
  const ends = await endOffsets(brokers, topic);
  let total = 0;
  for (const end of ends.values()) total += Number(end);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const committed = await archivedOffsets(db, groupId, topic);
    if (committed === total) return total;
    if (Date.now() > deadline) throw new Error(`archive did not catch up: ${committed} of ${total} offsets committed`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
