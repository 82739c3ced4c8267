// The idleness rule over the checkpoint tables (src/io/mart-store/idle-watermarks.ts): a consumer
// counts as at wall clock − WATERMARK_DELAY only when it has committed every offset the topic's
// partitions hold and its last commit is older than IDLE_PARTITION_TIMEOUT. The end offsets are
// the rule's input (Kafka's in production; the acceptance test operator-last-day uses the real
// broker); here they are given, to pin each boundary exactly.
import { describe, expect, it } from 'vitest';
import { consumerWatermarks } from '../../src/io/mart-store/idle-watermarks.ts';
import type { IdleRule } from '../../src/io/mart-store/idle-watermarks.ts';
import { testDatabaseFactories } from '../support/databases.ts';

const NOW = Date.parse('2026-03-11T12:00:00Z');
const STORED = Date.parse('2026-03-10T01:50:54Z');

function rule(ends: Record<number, string>, idleTimeoutMs: number): IdleRule {
  return {
    source: 'kafka:clicks',
    logEndOffsets: async () => new Map(Object.entries(ends).map(([p, o]) => [Number(p), o])),
    watermarkDelayMs: 600_000,
    idleTimeoutMs,
    now: () => NOW,
  };
}

for (const factory of testDatabaseFactories()) {
  describe(`idle watermarks on ${factory.label}`, () => {
    it('raises a caught-up, idle consumer to now − delay, and nothing else', async () => {
      const t = await factory.create();
      try {
        await t.db.query(`INSERT INTO archive_watermark (consumer, watermark_ts) VALUES ('arch', $1::timestamptz)`, [new Date(STORED).toISOString()]);
        // Last message 5 minutes before NOW; partition 1 at offset 40, partition 0 at 100.
        await t.db.query(
          `INSERT INTO archive_partitions (consumer, source, kafka_partition, next_offset, last_message_at, updated_at)
           VALUES ('arch', 'kafka:clicks', 0, 100, $1::timestamptz, $1::timestamptz), ('arch', 'kafka:clicks', 1, 40, $1::timestamptz, $1::timestamptz)`,
          [new Date(NOW - 300_000).toISOString()],
        );
        const caughtUp = { 0: '100', 1: '40', 2: '0' };
        expect(await consumerWatermarks(t.db, 'archive', rule(caughtUp, 60_000))).toEqual([
          { consumer: 'arch', stored: STORED, watermark: NOW - 600_000, idle: true, lag: 0, lastCommitAt: NOW - 300_000 },
        ]);
        // Idle for 5 minutes only: a 10-minute timeout keeps the stored watermark.
        expect((await consumerWatermarks(t.db, 'archive', rule(caughtUp, 600_000)))[0]).toMatchObject({ watermark: STORED, idle: false, lag: 0 });
        // One message not archived (partition 2 has one, no row yet): behind, not idle.
        expect((await consumerWatermarks(t.db, 'archive', rule({ 0: '100', 1: '40', 2: '1' }, 60_000)))[0]).toMatchObject({ watermark: STORED, idle: false, lag: 1 });
        // Without the rule (no Kafka), and with Kafka out of reach: as stored.
        expect((await consumerWatermarks(t.db, 'archive'))[0]).toMatchObject({ watermark: STORED, idle: false, lag: null });
        const unreachable: IdleRule = { ...rule(caughtUp, 60_000), logEndOffsets: () => Promise.reject(new Error('broker down')) };
        expect((await consumerWatermarks(t.db, 'archive', unreachable))[0]).toMatchObject({ watermark: STORED, idle: false, lag: null });
        // A consumer of another source (a file replay) never counts as idle on this topic.
        await t.db.query(`INSERT INTO stream_consumers (consumer, watermark_ts) VALUES ('replay', $1::timestamptz)`, [new Date(STORED).toISOString()]);
        expect(await consumerWatermarks(t.db, 'stream', rule(caughtUp, 60_000))).toEqual([
          { consumer: 'replay', stored: STORED, watermark: STORED, idle: false, lag: 140, lastCommitAt: null },
        ]);
      } finally {
        await t.dispose();
      }
    });
  });
}
