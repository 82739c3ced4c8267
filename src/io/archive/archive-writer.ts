// The curated archive writer (SPEC §1, §6, §7): consumes a MessageSource (Kafka in production, a
// file or the generator for replays and the demo), keeps every valid event, and flushes them as
// snappy Parquet objects under curated/event_date=YYYY-MM-DD/ — one object per (date, partition,
// flushed offset range) — with the offsets, the archive watermark and lake_days committed to
// PostgreSQL in one transaction after the upload.
//
// Exactly once, whatever instant a crash hits. A flush runs in a fixed order:
//   1. intents: the keys about to be written, recorded in a fenced transaction;
//   2. upload of every object;
//   3. commit: fenced offsets + watermark + lake_days, and the intents deleted.
// A writer taking a partition over (a restart, a rebalance) first deletes every object named by
// an intent left over from an earlier owner, then reads from the committed offset. Object names
// alone would not be enough: after a crash the same offsets may be flushed at other boundaries (a
// time-based flush), so the uncommitted object and its successor would overlap.
// Two writers (a rebalance): the new owner's claim bumps the partition's epoch, so the old one
// can neither record intents nor commit; the objects its refused flush uploaded are deleted by
// the new owner (at assignment, and again before each of its commits, for uploads still in
// flight). Left open: an old owner's upload that lands only after the new owner has committed
// that partition — S3 offers no fenced write — would leave an orphan; cold recomputes dedup by
// event_id, so it cannot double-count, but it would show as a second copy of those offsets.
// Invalid and far-future messages are not archived (the stream processor dead-letters them), but
// their offsets are part of the flushed range all the same.
import { parseRawMessage } from '../../marts/event-contract.ts';
import { localDate } from '../../marts/time-zone.ts';
import type { RawMessage } from '../../marts/types.ts';
import { WatermarkTracker } from '../../stream/watermark-tracker.ts';
import type { ExternalPartitionClock } from '../../stream/watermark-tracker.ts';
import type { Database } from '../db/database.ts';
import { DatabaseUnavailableError } from '../db/errors.ts';
import { waitForDatabase } from '../db/wait-for-database.ts';
import type { Lake } from '../lake/lake.ts';
import { LakeOutageError, patientLake } from '../lake/patient-lake.ts';
import { encodeEventsToParquet } from '../lake/parquet-events.ts';
import type { ArchiveRow } from '../lake/parquet-events.ts';
import { createCatchUpLog } from '../catch-up-log.ts';
import type { Logger } from '../log.ts';
import type { ArchiveMetrics } from '../metrics.ts';
import type { MessageSource } from '../source.ts';
import { archiveObjectKey, sourceKeyName } from './archive-object-key.ts';
import {
  ArchiveFencedError,
  advanceWatermark,
  claimPartitions,
  commitFlush,
  loadArchiveGroupClocks,
  loadArchiveWatermark,
  loadStaleIntents,
  writeIntents,
} from './archive-store.ts';
import type { PartitionClaim, PartitionFlush } from './archive-store.ts';
import { flushReason, msUntilDue } from './flush-policy.ts';
import type { BufferState, FlushLimits, FlushReason } from './flush-policy.ts';

export interface ArchiveSettings {
  /** MART_TIMEZONE: decides each event's event_date folder. */
  readonly timeZone: string;
  readonly watermarkDelayMs: number;
  readonly maxFutureSkewMs: number;
  readonly idlePartitionTimeoutMs: number;
  readonly limits: FlushLimits;
}

export interface ArchiveRunOptions {
  readonly db: Database;
  readonly lake: Lake;
  /**
   * The source, or a factory for one. With a factory, a flush refused by the fence (another
   * writer took a partition over) makes the writer start afresh from the committed state.
   */
  readonly source: MessageSource | (() => MessageSource);
  /** The consumer group (Kafka) or checkpoint name: the key of the archive's state. */
  readonly consumer: string;
  readonly settings: ArchiveSettings;
  /** The log's end offsets (Kafka): a partition with a backlog never counts as idle. */
  readonly logEndOffsets?: () => Promise<ReadonlyMap<number, string>>;
  readonly log: Logger;
  readonly metrics?: ArchiveMetrics;
  readonly clock?: () => number;
  /** Aborting flushes what is buffered, commits it and returns. */
  readonly signal?: AbortSignal;
  /** Called after every committed flush (tests and benchmarks observe progress through it). */
  readonly onFlush?: (flush: FlushSummary) => void;
  /** Objects uploaded (or deleted) at once; default 4. */
  readonly uploadConcurrency?: number;
  /**
   * With a source factory: how long an unreachable database is waited for, with back-off,
   * before the run fails with DatabaseOutageError; once it answers, the writer starts afresh
   * from the committed state. Unset: the first DatabaseUnavailableError fails the run.
   */
  readonly dbOutageLimitMs?: number;
  /**
   * How long the lake's store may stay unreachable: its calls are retried with back-off for so
   * long, then fail with LakeOutageError. Unset: the first failure fails the run.
   */
  readonly lakeOutageLimitMs?: number;
}

export interface FlushSummary {
  readonly reason: FlushReason | 'end' | 'stop';
  readonly keys: readonly string[];
  readonly messages: number;
  readonly rows: number;
  readonly watermark: number;
  readonly durationMs: number;
}

export interface ArchiveRunSummary {
  readonly messages: number;
  readonly archived: number;
  readonly skipped: number;
  readonly objects: number;
  readonly flushes: number;
  readonly orphansDeleted: number;
  readonly watermark: number;
  readonly ended: 'source-exhausted' | 'stopped';
}

type Totals = { messages: number; archived: number; skipped: number; objects: number; flushes: number; orphansDeleted: number };

const POLL_WAIT_MS = 250;
const MAX_POLL_MESSAGES = 5000;
const WATERMARK_REFRESH_MS = 1000;
/** Rough size of a record handed over already decoded (Parquet replays): ~ its JSON. */
const RECORD_BYTES_ESTIMATE = 200;

/** One owned partition: its claim and what is buffered since its last commit. */
class PartitionBuffer {
  claim: PartitionClaim;
  lastMessageAt: number;
  firstOffset: string | null = null;
  lastOffset: string | null = null;
  byDate = new Map<string, ArchiveRow[]>();
  messages = 0;
  rows = 0;
  bytes = 0;
  oldestAt: number | null = null;
  maxEventTs = Number.NEGATIVE_INFINITY;

  constructor(claim: PartitionClaim, now: number) {
    this.claim = claim;
    this.lastMessageAt = now;
  }

  reset(): void {
    this.firstOffset = null;
    this.lastOffset = null;
    this.byDate = new Map();
    this.messages = 0;
    this.rows = 0;
    this.bytes = 0;
    this.oldestAt = null;
    this.maxEventTs = Number.NEGATIVE_INFINITY;
  }
}

export async function runArchive(options: ArchiveRunOptions): Promise<ArchiveRunSummary> {
  const totals: Totals = { messages: 0, archived: 0, skipped: 0, objects: 0, flushes: 0, orphansDeleted: 0 };
  for (;;) {
    const source = typeof options.source === 'function' ? options.source() : options.source;
    try {
      return await runFromCheckpoint(options, source, totals);
    } catch (error) {
      if (error instanceof LakeOutageError && options.signal?.aborted === true) {
        // Nothing of the pending flush was committed: the next start reads it again.
        options.log.warn('stopped while the lake was unavailable: the buffered messages are read again at the next start', { error: error.message });
        const watermark = (await loadArchiveWatermark(options.db, options.consumer)) ?? Number.NEGATIVE_INFINITY;
        return { ...totals, watermark, ended: 'stopped' };
      }
      if (error instanceof DatabaseUnavailableError && error.retriable && typeof options.source === 'function' && options.dbOutageLimitMs !== undefined) {
        // The flush in flight committed whole or not at all; uploads it made without a commit
        // are deleted through their intents when the partitions are claimed again.
        options.log.warn('database unavailable: waiting for it, then resuming from the committed state', { error: error.message, limit_ms: options.dbOutageLimitMs });
        if (!(await waitForDatabase(options.db, options.dbOutageLimitMs, error, options.signal))) {
          return { ...totals, watermark: Number.NEGATIVE_INFINITY, ended: 'stopped' };
        }
        options.log.info('database available again: resuming from the committed state');
        continue;
      }
      if (!(error instanceof ArchiveFencedError) || typeof options.source !== 'function') throw error;
      // Nothing of the refused flush was committed; its intents stay for the partition's owner.
      options.metrics?.fenced.inc();
      if (options.signal?.aborted === true) {
        options.log.warn('archive fenced while stopping: the buffered messages are left to the new owner', { reason: error.message });
        const watermark = (await loadArchiveWatermark(options.db, options.consumer)) ?? Number.NEGATIVE_INFINITY;
        return { ...totals, watermark, ended: 'stopped' };
      }
      options.log.warn('archive fenced: another writer owns a partition now; restarting from the committed state', { reason: error.message });
    }
  }
}

async function runFromCheckpoint(options: ArchiveRunOptions, source: MessageSource, totals: Totals): Promise<ArchiveRunSummary> {
  const { db, consumer, log, metrics, settings } = options;
  const lake =
    options.lakeOutageLimitMs === undefined
      ? options.lake
      : patientLake(options.lake, { limitMs: options.lakeOutageLimitMs, log, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const clock = options.clock ?? Date.now;
  const concurrency = Math.max(1, options.uploadConcurrency ?? 4);
  const stored = await loadArchiveWatermark(db, consumer);
  let storedWatermark = stored ?? Number.NEGATIVE_INFINITY;
  const tracker = new WatermarkTracker({
    delayMs: settings.watermarkDelayMs,
    idleTimeoutMs: settings.idlePartitionTimeoutMs,
    ...(stored === undefined ? {} : { initialWatermark: stored }),
  });
  if (Number.isFinite(storedWatermark)) metrics?.watermark.set(storedWatermark / 1000);

  const keyOf = (src: string, partition: number): string => `${partition}\u0000${src}`;
  const claimed = new Map<string, PartitionClaim>();
  const owned = new Map<string, PartitionBuffer>();

  const bufferState = (): BufferState => {
    let messages = 0;
    let bytes = 0;
    let oldestAt: number | null = null;
    for (const p of owned.values()) {
      messages += p.messages;
      bytes += p.bytes;
      if (p.oldestAt !== null && (oldestAt === null || p.oldestAt < oldestAt)) oldestAt = p.oldestAt;
    }
    return { messages, bytes, oldestAt };
  };

  // Counted once per key: the sweep before each commit deletes them again (see flush).
  const orphans = new Set<string>();
  const deleteOrphans = async (keys: readonly string[]): Promise<void> => {
    await inParallel(keys, concurrency, (key) => lake.delete(key));
    const fresh = keys.filter((key) => !orphans.has(key));
    for (const key of fresh) orphans.add(key);
    totals.orphansDeleted += fresh.length;
    metrics?.orphansDeleted.inc({}, fresh.length);
  };

  const onAssigned = async (src: string, partitions: readonly number[]): Promise<void> => {
    const claims: PartitionClaim[] = [];
    for (const partition of partitions) {
      const claim = claimed.get(keyOf(src, partition));
      if (claim === undefined) throw new Error(`archive: partition ${src}#${partition} assigned without a claim`);
      claims.push(claim);
    }
    // Before anything is read: objects of earlier owners' flushes that never committed.
    const stale = await loadStaleIntents(db, consumer, claims);
    if (stale.length > 0) {
      log.info('deleting objects of uncommitted flushes', { source: src, keys: stale.map((s) => s.key) });
      await deleteOrphans(stale.map((s) => s.key));
    }
    const now = clock();
    for (const claim of claims) owned.set(keyOf(src, claim.partition), new PartitionBuffer(claim, now));
    log.info('partitions assigned', {
      source: src,
      partitions,
      offsets: Object.fromEntries(claims.map((c) => [c.partition, c.nextOffset ?? 'earliest'])),
    });
  };

  const onRevoked = (src: string, partitions: readonly number[]): void => {
    // The buffer is abandoned, not flushed: the next owner reads it again from the committed offset.
    for (const partition of partitions) {
      owned.delete(keyOf(src, partition));
      claimed.delete(keyOf(src, partition));
      tracker.untrack(partition);
    }
    log.info('partitions revoked', { source: src, partitions });
  };

  const add = (messages: readonly RawMessage[]): void => {
    const now = clock();
    const parse = { nowMs: now, maxFutureSkewMs: settings.maxFutureSkewMs };
    for (const m of messages) {
      const p = owned.get(keyOf(m.source, m.partition));
      if (p === undefined) continue;
      p.firstOffset ??= m.offset;
      p.lastOffset = m.offset;
      p.messages++;
      p.bytes += messageBytes(m.value);
      p.oldestAt ??= now;
      p.lastMessageAt = now;
      const outcome = parseRawMessage(m.value, parse);
      if (!outcome.ok) {
        totals.skipped++;
        metrics?.skipped.inc({ reason: outcome.reason });
        continue;
      }
      const event = outcome.event;
      const date = localDate(event.eventTs, settings.timeZone);
      let rows = p.byDate.get(date);
      if (rows === undefined) {
        rows = [];
        p.byDate.set(date, rows);
      }
      rows.push({ ...event, partition: m.partition, offset: m.offset });
      p.rows++;
      if (event.eventTs > p.maxEventTs) p.maxEventTs = event.eventTs;
    }
  };

  let logEnds: ReadonlyMap<number, string> | undefined;
  let logEndsAt = Number.NEGATIVE_INFINITY;
  // Messages behind and the time to caught up, in the log after a restart or an outage.
  const catchUp = createCatchUpLog(log, clock);
  /**
   * The watermark from durable clocks only: per partition the largest archived event_ts, the
   * minimum over partitions that are not idle (a partition holding buffered messages, or with a
   * backlog in the log, is never idle). `durable` overrides partitions about to be committed.
   */
  const computeWatermark = async (now: number, durable: ReadonlyMap<PartitionBuffer, PartitionFlush>): Promise<number> => {
    if (options.logEndOffsets !== undefined && now - logEndsAt >= WATERMARK_REFRESH_MS) {
      logEndsAt = now;
      logEnds = await options.logEndOffsets();
    }
    const src = [...owned.values()][0]?.claim.source;
    let external: ExternalPartitionClock[] = [];
    if (src !== undefined) {
      const mine = new Set([...owned.values()].map((p) => p.claim.partition));
      const clocks = await loadArchiveGroupClocks(db, consumer, src, logEnds);
      external = clocks.filter((c) => !mine.has(c.partition));
      tracker.setExternal(external);
    }
    let allIdle = logEnds !== undefined && external.every((c) => c.caughtUp && now - c.committedAt >= settings.idlePartitionTimeoutMs);
    for (const p of owned.values()) {
      const flush = durable.get(p);
      const next = flush?.nextOffset ?? p.claim.nextOffset;
      const end = logEnds?.get(p.claim.partition);
      const behind = end !== undefined && (next === null ? 0n : BigInt(next)) < BigInt(end);
      const buffered = flush === undefined && p.messages > 0;
      const maxEventTs = flush?.maxEventTs ?? p.claim.maxEventTs;
      const activeAt = behind || buffered ? now : p.lastMessageAt;
      tracker.track(p.claim.partition, maxEventTs, activeAt);
      if (end === undefined || now - activeAt < settings.idlePartitionTimeoutMs) allIdle = false;
    }
    const watermark = tracker.recompute(now);
    // Completeness that ends (src/io/mart-store/idle-watermarks.ts): with every partition of the
    // group caught up and idle, nothing holds time back, so the watermark may follow the wall
    // clock. An event that still comes is archived as late and marks its day dirty.
    return allIdle ? Math.max(watermark, now - settings.watermarkDelayMs) : watermark;
  };

  const flush = async (reason: FlushSummary['reason']): Promise<void> => {
    const parts = [...owned.values()].filter((p) => p.messages > 0);
    if (parts.length === 0) return;
    const startedAt = clock();
    const planned: { partition: number; key: string; rows: ArchiveRow[] }[] = [];
    const dates = new Set<string>();
    for (const p of parts) {
      for (const [eventDate, rows] of p.byDate) {
        dates.add(eventDate);
        const key = archiveObjectKey({
          eventDate,
          sourceName: sourceKeyName(p.claim.source),
          partition: p.claim.partition,
          firstOffset: p.firstOffset!,
          lastOffset: p.lastOffset!,
        });
        planned.push({ partition: p.claim.partition, key, rows });
      }
    }
    const claims = parts.map((p) => p.claim);
    await db.transaction((tx) => writeIntents(tx, consumer, claims, planned));
    await inParallel(planned, concurrency, (o) => lake.put(o.key, encodeEventsToParquet(o.rows)));
    // An earlier owner's upload still in flight at our assignment may have landed since.
    const mine = new Set(planned.map((o) => o.key));
    const late = (await loadStaleIntents(db, consumer, claims)).filter((i) => !mine.has(i.key));
    if (late.length > 0) await deleteOrphans(late.map((i) => i.key));

    const flushes = new Map<PartitionBuffer, PartitionFlush>(
      parts.map((p) => [
        p,
        {
          claim: p.claim,
          nextOffset: (BigInt(p.lastOffset!) + 1n).toString(),
          maxEventTs: Math.max(p.claim.maxEventTs, p.maxEventTs),
          lastMessageAt: p.lastMessageAt,
        },
      ]),
    );
    const watermark = await computeWatermark(clock(), flushes);
    await db.transaction((tx) => commitFlush(tx, consumer, [...flushes.values()], [...dates].sort(), watermark));

    const summary: FlushSummary = {
      reason,
      keys: planned.map((o) => o.key),
      messages: parts.reduce((n, p) => n + p.messages, 0),
      rows: parts.reduce((n, p) => n + p.rows, 0),
      watermark: Math.max(watermark, storedWatermark),
      durationMs: clock() - startedAt,
    };
    for (const [p, f] of flushes) {
      p.claim = { ...p.claim, nextOffset: f.nextOffset, maxEventTs: f.maxEventTs };
      p.reset();
    }
    storedWatermark = summary.watermark;
    catchUp.committed(
      [...flushes.values()].map((f) => ({ partition: f.claim.partition, nextOffset: f.nextOffset })),
      logEnds,
    );
    totals.flushes++;
    totals.archived += summary.rows;
    totals.objects += planned.length;
    if (metrics !== undefined) {
      metrics.rowsArchived.inc({}, summary.rows);
      metrics.objectsWritten.inc({}, planned.length);
      metrics.flushDuration.observe(summary.durationMs / 1000);
      if (Number.isFinite(storedWatermark)) metrics.watermark.set(storedWatermark / 1000);
    }
    log.debug('archive flush committed', { reason, objects: planned.length, rows: summary.rows, messages: summary.messages, ms: summary.durationMs });
    options.onFlush?.(summary);
  };

  let watermarkCheckedAt = Number.NEGATIVE_INFINITY;
  /** Idle partitions stop holding the watermark back even when nothing is flushed. */
  const refreshWatermark = async (): Promise<void> => {
    const now = clock();
    if (now - watermarkCheckedAt < WATERMARK_REFRESH_MS || owned.size === 0) return;
    watermarkCheckedAt = now;
    const watermark = await computeWatermark(now, new Map());
    if (watermark <= storedWatermark) return;
    await db.transaction((tx) => advanceWatermark(tx, consumer, watermark));
    storedWatermark = watermark;
    if (Number.isFinite(watermark)) metrics?.watermark.set(watermark / 1000);
  };

  await source.start({
    offsetsFor: async (src, partitions) => {
      const claims = await claimPartitions(db, consumer, src, partitions);
      for (const claim of claims) claimed.set(keyOf(src, claim.partition), claim);
      return new Map(claims.map((c) => [c.partition, c.nextOffset]));
    },
  });
  let ended: ArchiveRunSummary['ended'] = 'stopped';
  try {
    while (options.signal?.aborted !== true) {
      const buffer = bufferState();
      const wait = Math.min(POLL_WAIT_MS, msUntilDue(buffer, settings.limits, clock()));
      const room = Math.max(1, Math.min(MAX_POLL_MESSAGES, settings.limits.maxRows - buffer.messages));
      const polled = await source.poll(room, wait);
      if (polled.kind === 'assigned') {
        await onAssigned(polled.source, polled.partitions);
      } else if (polled.kind === 'revoked') {
        onRevoked(polled.source, polled.partitions);
      } else if (polled.kind === 'messages') {
        totals.messages += polled.messages.length;
        metrics?.messagesIn.inc({}, polled.messages.length);
        add(polled.messages);
      } else {
        await flush('end');
        // A bounded source is complete: every event it holds is in the lake.
        await db.transaction((tx) => advanceWatermark(tx, consumer, Number.POSITIVE_INFINITY));
        storedWatermark = Number.POSITIVE_INFINITY;
        ended = 'source-exhausted';
        break;
      }
      const reason = flushReason(bufferState(), settings.limits, clock());
      if (reason !== null) await flush(reason);
      else await refreshWatermark();
    }
    if (ended === 'stopped') await flush('stop');
  } finally {
    // Closing must not replace the error that ended the run (a consumer cut off mid-fetch may
    // fail to leave its group; the group then expires its session).
    await source.close().catch((error: unknown) => log.warn('closing the source failed', { error: (error as Error).message }));
  }
  return { ...totals, watermark: storedWatermark, ended };
}

function messageBytes(value: RawMessage['value']): number {
  if (value === null) return 0;
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.byteLength;
  return RECORD_BYTES_ESTIMATE;
}

/** Runs fn over items with at most `limit` calls in flight; rejects with the first failure. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
