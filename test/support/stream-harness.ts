// Helpers for acceptance tests that run `tidemark stream` processes against real Kafka and
// PostgreSQL: the environment they get, and waiting until they have committed every offset.
import { expect } from 'vitest';
import type { Queryable } from '../../src/io/db/database.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { readHotMarts } from './read-hot-marts.ts';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';

export function streamEnv(options: { databaseUrl: string; brokers: readonly string[]; topic: string; groupId: string; suite: MartSuite }): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    KAFKA_TOPIC: options.topic,
    KAFKA_GROUP_ID: options.groupId,
    KAFKA_SESSION_TIMEOUT: '6s',
    MART_TIMEZONE: options.suite.settings.timeZone,
    WATERMARK_DELAY: `${options.suite.watermarkDelayMs}ms`,
    MAX_FUTURE_SKEW: `${options.suite.maxFutureSkewMs}ms`,
    STREAM_BATCH_MAX_MESSAGES: '2000',
    STREAM_BATCH_MAX_WAIT: '100ms',
    LOG_LEVEL: 'warn',
  };
}

/** Sum of committed next offsets over the group's partitions of the topic. */
export async function committedMessages(db: Queryable, groupId: string, topic: string): Promise<number> {
  const result = await db.query<{ n: string | null }>(
    `SELECT sum(next_offset)::text AS n FROM stream_partitions WHERE consumer = $1 AND source = $2`,
    [groupId, `kafka:${topic}`],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Waits until the checkpoint holds every offset the topic has, then a little longer for idle flushes. */
export async function waitForCatchUp(
  db: Queryable,
  brokers: readonly string[],
  groupId: string,
  topic: string,
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<void> {
  const ends = await endOffsets(brokers, topic);
  let total = 0;
  for (const end of ends.values()) total += Number(end);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const committed = await committedMessages(db, groupId, topic);
    if (committed === total) break;
    if (Date.now() > deadline) throw new Error(`stream did not catch up: ${committed} of ${total} offsets committed`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // Instances flush idle partitions about once a second: give each a chance to see the final state.
  await new Promise((r) => setTimeout(r, options.settleMs ?? 2500));
}

/** The first snapshot instant strictly after the newest event (the newest provisional snapshot). */
export function newestSnapshot(newestEventTs: number, step: number): number {
  return Math.floor(newestEventTs / step) * step + step;
}

/** Largest event_ts of a (possibly large) event list; spread arguments would overflow the stack. */
export function newestEventTs(events: readonly { readonly eventTs: number }[]): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.eventTs > newest) newest = e.eventTs;
  return newest;
}

/**
 * Waits (up to timeoutMs) until the hot marts hold the suite's expected rows — the combiner folds
 * what other instances wrote about a second after they wrote it, longer on a loaded machine — then
 * asserts them as expectStreamedSuiteMarts does, so a timeout shows the difference.
 */
export async function waitForStreamedSuiteMarts(db: Queryable, suite: MartSuite, timeoutMs = 90_000): Promise<void> {
  const newest = newestEventTs(suite.expected.onTimeEvents);
  const expected = JSON.stringify(evaluateHotMarts(suite.expected.onTimeEvents, suite.settings, { newestEventTs: newest }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const actual = await readHotMarts(db, { maxSnapshotTs: newestSnapshot(newest, suite.settings.topDocsEveryMs) });
    if (JSON.stringify(actual) === expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await expectStreamedSuiteMarts(db, suite);
}

/**
 * Asserts the four hot marts equal the reference evaluator on the suite's on-time events, with
 * snapshot rows up to the newest event (a running stream), one mart at a time so a failure names
 * the mart; and that late_events holds exactly the suite's late lines.
 */
export async function expectStreamedSuiteMarts(db: Queryable, suite: MartSuite): Promise<void> {
  const newest = newestEventTs(suite.expected.onTimeEvents);
  const expected = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings, { newestEventTs: newest });
  const actual = await readHotMarts(db, { maxSnapshotTs: newestSnapshot(newest, suite.settings.topDocsEveryMs) });
  expect(actual.traffic).toEqual(expected.traffic);
  expect(actual.anomalies).toEqual(expected.anomalies);
  expect(actual.clinicalTrend).toEqual(expected.clinicalTrend);
  expect(actual.topDocs).toEqual(expected.topDocs);
  const late = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM late_events`);
  expect(Number(late.rows[0]?.n)).toBe(suite.expected.lateLines.length);
}

/** What dead_letter_events.raw_text holds for a raw message: its first maxBytes bytes (64 KiB by default) as text. */
export function storedRawText(line: string, maxBytes = 65_536): string {
  const bytes = Buffer.from(line, 'utf8');
  return bytes.length <= maxBytes ? line : bytes.subarray(0, maxBytes).toString('utf8');
}
