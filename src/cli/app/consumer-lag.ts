// A consumer's lag over a log whose end offsets are known (Kafka): the log's ends minus the offsets
// the consumer committed to the database. Apart from kafka-sources.ts, which loads the Kafka
// driver: processes without Kafka import this, never the driver.
import type { Queryable } from '../../io/db/database.ts';

export type EndOffsets = () => Promise<ReadonlyMap<number, string>>;

/** Messages in the topic that `consumer` has not committed yet (its stream_partitions checkpoint). */
export async function streamLag(db: Queryable, consumer: string, source: string, ends: EndOffsets): Promise<number> {
  return committedLag(db, 'stream_partitions', consumer, source, ends);
}

/** Messages in the topic the archive writer `consumer` has not committed to the lake yet. */
export async function archiveLag(db: Queryable, consumer: string, source: string, ends: EndOffsets): Promise<number> {
  return committedLag(db, 'archive_partitions', consumer, source, ends);
}

async function committedLag(db: Queryable, table: 'stream_partitions' | 'archive_partitions', consumer: string, source: string, ends: EndOffsets): Promise<number> {
  const end = await ends();
  const { rows } = await db.query<{ kafka_partition: number; next_offset: string | null }>(
    `SELECT kafka_partition, next_offset FROM ${table} WHERE consumer = $1 AND source = $2`,
    [consumer, source],
  );
  const committed = new Map(rows.map((r) => [r.kafka_partition, Number(r.next_offset ?? 0)]));
  let total = 0;
  for (const [partition, offset] of end) total += Math.max(0, Number(offset) - (committed.get(partition) ?? 0));
  return total;
}
