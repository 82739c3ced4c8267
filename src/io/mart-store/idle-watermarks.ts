// Completeness that ends (SPEC §6.1). A stored watermark moves only with new events, so the last
// day of a stream that has gone quiet (a decommissioned source, a quiet night, a stopped writer)
// would wait for ever. The rule, for the archive writer and for the stream alike: a consumer
// that has committed every offset the topic holds, and whose last commit is older than
// IDLE_PARTITION_TIMEOUT, counts as being at wall clock − WATERMARK_DELAY. Nothing is lost if an
// event comes later: beyond MAX_FUTURE_SKEW it is dead-lettered as future; otherwise the archive
// writer archives it as late and marks its day dirty, so the next daily flow recomputes the day.
// The archive writer applies the same rule while it runs (src/io/archive/archive-writer.ts); this
// is the reader's side, for writers that have stopped.
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch } from '../hot-sink/timestamps.ts';

export interface IdleRule {
  /** The checkpoint tables' name of KAFKA_TOPIC: `kafka:<topic>`. */
  readonly source: string;
  /** KAFKA_TOPIC's end offsets per partition. */
  readonly logEndOffsets: () => Promise<ReadonlyMap<number, string>>;
  readonly watermarkDelayMs: number;
  readonly idleTimeoutMs: number;
  readonly now: () => number;
}

export interface ConsumerWatermark {
  readonly consumer: string;
  /** The stored watermark. */
  readonly stored: number;
  /** The stored one, or wall clock − WATERMARK_DELAY when the consumer is caught up and idle. */
  readonly watermark: number;
  /** Whether idleness raised it. */
  readonly idle: boolean;
  /** Messages of the topic the consumer has not committed (null: not known, no Kafka). */
  readonly lag: number | null;
  /** Wall clock of the consumer's last commit on the topic (null: none). */
  readonly lastCommitAt: number | null;
}

type Kind = 'archive' | 'stream';

const TABLES: Record<Kind, { readonly watermarks: string; readonly partitions: string; readonly activity: string }> = {
  archive: { watermarks: 'archive_watermark', partitions: 'archive_partitions', activity: 'coalesce(p.last_message_at, p.updated_at)' },
  stream: { watermarks: 'stream_consumers', partitions: 'stream_partitions', activity: 'p.updated_at' },
};

/** Every consumer's watermark of `kind`, raised by the idleness rule where it applies (no rule: as stored). */
export async function consumerWatermarks(db: Queryable, kind: Kind, rule?: IdleRule): Promise<ConsumerWatermark[]> {
  const t = TABLES[kind];
  // Kafka out of reach: the stored watermarks, as without the rule (the step waits, it does not fail).
  const ends = rule === undefined ? undefined : await rule.logEndOffsets().catch(() => undefined);
  const applies = ends !== undefined;
  const partitions = ends === undefined ? [] : [...ends.keys()];
  const offsets = ends === undefined ? [] : [...ends.values()];
  const { rows } = await db.query<{ consumer: string; w: unknown; last: unknown; lag: string | null }>(
    `SELECT w.consumer, ${epochMs('w.watermark_ts')} AS w,
            (SELECT ${epochMs(`max(${t.activity})`)} FROM ${t.partitions} p WHERE p.consumer = w.consumer AND p.source = $1) AS last,
            (SELECT sum(greatest(e.o - coalesce(p.next_offset, 0), 0))::text
               FROM unnest($2::int[], $3::bigint[]) AS e(p, o)
               LEFT JOIN ${t.partitions} p ON p.consumer = w.consumer AND p.source = $1 AND p.kafka_partition = e.p) AS lag
       FROM ${t.watermarks} w ORDER BY w.consumer`,
    [rule?.source ?? '', partitions, offsets],
  );
  const now = rule?.now() ?? 0;
  return rows.map((row) => {
    const stored = fromSqlEpoch(row.w);
    const lastCommitAt = row.last === null ? null : fromSqlEpoch(row.last);
    const lag = applies ? Number(row.lag ?? 0) : null;
    const idle = rule !== undefined && applies && lastCommitAt !== null && lag === 0 && now - lastCommitAt >= rule.idleTimeoutMs;
    const raised = idle ? Math.max(stored, now - rule.watermarkDelayMs) : stored;
    return { consumer: row.consumer, stored, watermark: raised, idle: idle && raised > stored, lag, lastCommitAt };
  });
}
