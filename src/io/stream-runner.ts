// Drives the stream processor: poll the source, process, flush, and commit each micro-batch in
// one database transaction; alerts are announced only after their batch committed.
import type { BatchOutput } from '../stream/checkpoint-types.ts';
import { StreamProcessor } from '../stream/stream-processor.ts';
import type { Clock, StreamSettings } from '../stream/stream-processor.ts';
import type { Database } from './db/database.ts';
import { DatabaseUnavailableError } from './db/errors.ts';
import { waitForDatabase } from './db/wait-for-database.ts';
import { loadCombinerFrontiers, loadConsumerWatermark, loadExternalPartitions, loadGroupClocks, loadNextOffsets, loadPartitionCheckpoint } from './hot-sink/checkpoint-store.ts';
import { CheckpointFencedError, alertPayload, commitBatch } from './hot-sink/hot-mart-sink.ts';
import { createCatchUpLog } from './catch-up-log.ts';
import type { Logger } from './log.ts';
import type { StreamMetrics } from './metrics.ts';
import type { MessageSource } from './source.ts';
import { sleep } from './sleep.ts';

export interface StreamRunOptions {
  readonly db: Database;
  /**
   * The source. When it can reload (Kafka), a batch refused by the checkpoint fence (another
   * instance took a partition over during a rebalance) makes the runner start afresh from the
   * stored checkpoint instead of failing.
   */
  readonly source: MessageSource | (() => MessageSource);
  readonly consumer: string;
  readonly settings: StreamSettings;
  readonly batchMaxMessages: number;
  readonly batchMaxWaitMs: number;
  /** Least time between the starts of two batches that are not full (config.stream.batchMinIntervalMs). Default 0. */
  readonly batchMinIntervalMs?: number;
  /** Bytes of a dead letter's raw message that are stored (default 64 KiB). */
  readonly deadLetterMaxBytes?: number;
  /**
   * With a source that can reload (Kafka): how long an unreachable database is waited for, with
   * back-off, before the run fails with DatabaseOutageError. Once it answers again the run
   * resumes from the checkpoint. Unset: the first DatabaseUnavailableError fails the run.
   */
  readonly dbOutageLimitMs?: number;
  /** While no message arrives, flush this often anyway: idle partitions, other instances' progress. */
  readonly idleFlushMs?: number;
  /** Event time this instance may run ahead of the group's slowest live partition (default 10 min). */
  readonly maxLeadOverGroupMs?: number;
  /** The log's end offsets (Kafka): tells a partition with a backlog from an idle one. */
  readonly logEndOffsets?: () => Promise<ReadonlyMap<number, string>>;
  readonly log: Logger;
  readonly metrics?: StreamMetrics;
  readonly clock?: Clock;
  /** Aborting stops after the batch in flight has committed. */
  readonly signal?: AbortSignal;
  /** Called after every commit (tests and benchmarks observe progress through it). */
  readonly onCommit?: (batch: BatchOutput) => void;
  /** PGlite only: vacuum the hot path's tables after this much change (default EMBEDDED_MAINTENANCE_CADENCE). */
  readonly maintenanceEvery?: MaintenanceCadence;
}

export interface StreamRunSummary {
  readonly messages: number;
  readonly applied: number;
  readonly duplicates: number;
  readonly deadLetters: number;
  readonly lateEvents: number;
  readonly alerts: number;
  readonly batches: number;
  readonly watermark: number;
  readonly ended: 'source-exhausted' | 'stopped';
}

function hasWork(batch: BatchOutput): boolean {
  const m = batch.marts;
  const martWork =
    m !== null &&
    (m.expected === null ||
      m.clearFrom !== null ||
      m.expected.traffic !== m.next.traffic ||
      m.expected.top !== m.next.top ||
      m.expected.trend !== m.next.trend ||
      m.traffic.length + m.topDocs.length + m.clinicalTrend.length + m.replaceTraffic.length + m.replaceTop.length + m.replaceTrend.length > 0);
  return (
    martWork ||
    batch.anomalyUpserts.length + batch.anomalyDeletes.length + batch.deadLetters.length + batch.lateEvents.length > 0 ||
    batch.partitions.some((p) => p.changed)
  );
}

/** While a backlog is read, provisional rows are evaluated at most this often (they are rewritten anyway). */
const PROVISIONAL_EVERY_MS = 1000;

/** How much committed change the stream lets pass between two maintenance passes of the embedded database. */
export interface MaintenanceCadence {
  /** Committed micro-batches: each rewrites the checkpoint rows and, once caught up, the provisional rows. */
  readonly batches: number;
  /** Messages read: their pending events and buckets are written once and deleted as the bound passes. */
  readonly messages: number;
  /**
   * Committed micro-batches between two vacuums of the checkpoint rows alone: every batch rewrites
   * them, anomaly state included (TOASTed, tens of kB), so they bloat fastest, and they are small.
   */
  readonly checkpointBatches: number;
}

/**
 * The embedded database (PGlite) runs no autovacuum: the rows the hot path rewrites (provisional
 * snapshots, checkpoints, buckets, pending events) would grow its data folder without bound.
 * Vacuum them after an amount of change, whichever limit comes first, rather than on a timer:
 * the dead rows follow the change, so a live trickle and a catch-up over days of backlog leave
 * the folder the same size (a timer vacuumed a catch-up far too rarely). The demo's live traffic
 * commits 4 batches a second (STREAM_BATCH_MIN_INTERVAL): a full pass every ~2 minutes, the
 * checkpoint rows every ~25 s; a catch-up passes every few seconds. PostgreSQL's autovacuum does
 * this on a server.
 */
export const EMBEDDED_MAINTENANCE_CADENCE: MaintenanceCadence = { batches: 500, messages: 200_000, checkpointBatches: 100 };
const CHECKPOINT_TABLES = ['stream_partitions', 'stream_consumers', 'stream_combiner'];
const VACUUMED_TABLES = [
  ...CHECKPOINT_TABLES,
  'stream_state_buckets',
  'stream_pending_batches',
  'mart_realtime_traffic_minute',
  'mart_realtime_top_docs_1h',
  'mart_realtime_clinical_trend_24h',
  'mart_realtime_anomaly_sessions',
];

export async function runStream(options: StreamRunOptions): Promise<StreamRunSummary> {
  const totals = { messages: 0, applied: 0, duplicates: 0, deadLetters: 0, lateEvents: 0, alerts: 0, batches: 0 };
  const { db, consumer } = options;
  const source = typeof options.source === 'function' ? options.source() : options.source;
  await source.start({ offsetsFor: (src, partitions) => loadNextOffsets(db, consumer, src, partitions) });
  try {
    for (;;) {
      try {
        return await runFromCheckpoint(options, source, totals);
      } catch (error) {
        if (error instanceof DatabaseUnavailableError && error.retriable && source.reload !== undefined && options.dbOutageLimitMs !== undefined) {
          // The batch in flight was not committed (or, if the connection dropped during COMMIT,
          // the checkpoint says whether it was): wait for the database, then resume from it.
          options.log.warn('database unavailable: waiting for it, then resuming from the checkpoint', { error: error.message, limit_ms: options.dbOutageLimitMs });
          if (!(await waitForDatabase(db, options.dbOutageLimitMs, error, options.signal))) {
            return { ...totals, watermark: Number.NEGATIVE_INFINITY, ended: 'stopped' };
          }
          options.log.info('database available again: resuming from the checkpoint');
          source.reload();
          continue;
        }
        if (!(error instanceof CheckpointFencedError) || source.reload === undefined) throw error;
        // Nothing of the refused batch was written, and our in-memory state is ahead of the
        // checkpoint: drop it all and resume from what the database holds. The source stays in its
        // consumer group — rejoining would rebalance every other member once more.
        options.log.warn('checkpoint fenced: another instance committed one of our partitions; reloading from the checkpoint', { reason: error.message });
        options.metrics?.fenced.inc();
        source.reload();
      }
    }
  } finally {
    // Closing must not replace the error that ended the run (a consumer cut off mid-fetch may
    // fail to leave its group; the group then expires its session).
    await source.close().catch((error: unknown) => options.log.warn('closing the source failed', { error: (error as Error).message }));
  }
}

type Totals = { messages: number; applied: number; duplicates: number; deadLetters: number; lateEvents: number; alerts: number; batches: number };

async function runFromCheckpoint(options: StreamRunOptions, source: MessageSource, totals: Totals): Promise<StreamRunSummary> {
  const { db, consumer, log, metrics } = options;
  const clock = options.clock ?? Date.now;
  const initialWatermark = await loadConsumerWatermark(db, consumer);
  const processor = new StreamProcessor(options.settings, clock, initialWatermark === undefined ? {} : { initialWatermark });
  const catchUp = createCatchUpLog(log, clock);

  // Change since the last maintenance pass (embedded database only).
  const changed = { batches: 0, messages: 0, checkpointBatches: 0 };
  const commitOptions = options.deadLetterMaxBytes === undefined ? {} : { deadLetterMaxBytes: options.deadLetterMaxBytes };
  let logEnds: ReadonlyMap<number, string> | undefined;
  let logEndsAt = Number.NEGATIVE_INFINITY;
  const commit = async (batch: BatchOutput, startedAt: number): Promise<void> => {
    if (!hasWork(batch)) return;
    await db.transaction((tx) => commitBatch(tx, consumer, batch, commitOptions));
    changed.batches++;
    changed.checkpointBatches++;
    totals.batches++;
    totals.applied += batch.applied;
    totals.duplicates += batch.duplicates;
    totals.deadLetters += batch.deadLetters.length;
    totals.lateEvents += batch.lateEvents.length;
    totals.alerts += batch.alerts.length;
    for (const alert of batch.alerts) {
      log.warn('anomaly alert', { alert: alertPayload(alert) });
      metrics?.alerts.inc({ severity: alert.severity });
    }
    if (metrics !== undefined) {
      metrics.eventsApplied.inc({}, batch.applied);
      metrics.duplicates.inc({}, batch.duplicates);
      metrics.lateEvents.inc({}, batch.lateEvents.length);
      for (const d of batch.deadLetters) metrics.deadLetters.inc({ reason: d.reason });
      metrics.checkpointAge.set(clock() / 1000);
      if (Number.isFinite(batch.watermark)) metrics.watermarkDelay.set((clock() - batch.watermark) / 1000);
      metrics.batchDuration.observe((clock() - startedAt) / 1000);
    }
    options.onCommit?.(batch);
    catchUp.committed(batch.partitions, logEnds);
  };

  // The group's other partitions (owned by other instances) take part in the watermark and move
  // the newest snapshot horizon; their committed clocks come from the checkpoint table. With
  // several instances, the combiner also reads the buckets the others wrote since its last read.
  let externalVersions = new Map<number, bigint>();
  let combinerSource: string | null = null;
  let provisionalAt = Number.NEGATIVE_INFINITY;
  const flush = async (forceProvisional = false): Promise<BatchOutput> => {
    const owned = processor.ownedPartitions();
    const source = owned[0]?.source;
    if (source === undefined) return processor.flush();
    if (combinerSource !== source) {
      combinerSource = source;
      processor.restoreCombiner(await loadCombinerFrontiers(db, consumer, source));
    }
    if (options.logEndOffsets !== undefined && clock() - logEndsAt >= 1000) {
      logEndsAt = clock();
      logEnds = await options.logEndOffsets();
    }
    const groupClocks = await loadGroupClocks(db, consumer, source, logEnds);
    const caughtUp = logEnds !== undefined && processor.lagBehind(logEnds) === 0n;
    // Real elapsed time, not the injected clock: this is a cadence of work, not event time.
    const provisional = forceProvisional || caughtUp || performance.now() - provisionalAt >= PROVISIONAL_EVERY_MS;
    if (provisional) provisionalAt = performance.now();
    const shared = groupClocks.some((c) => !owned.some((o) => o.partition === c.partition));
    if (!shared) return processor.flush({ groupClocks, provisional, ...(logEnds === undefined ? {} : { logEnds }) });
    const external = await loadExternalPartitions(
      db,
      consumer,
      source,
      owned.map((o) => o.partition),
      groupClocks,
      externalVersions,
    );
    externalVersions = external.versions;
    return processor.flush({
      groupClocks,
      provisional,
      external: external.updates,
      storedFrontiers: await loadCombinerFrontiers(db, consumer, source),
      ...(logEnds === undefined ? {} : { logEnds }),
    });
  };
  const maxLeadMs = options.maxLeadOverGroupMs ?? 10 * 60_000;
  let throttledSince: number | null = null;
  const idleFlushMs = options.idleFlushMs ?? 1000;
  let lastFlushAt = clock();

  const cadence = options.maintenanceEvery ?? EMBEDDED_MAINTENANCE_CADENCE;
  const maintain = async (): Promise<void> => {
    if (db.dialect !== 'pglite') return;
    if (changed.batches >= cadence.batches || changed.messages >= cadence.messages) {
      changed.batches = 0;
      changed.messages = 0;
      changed.checkpointBatches = 0;
      await db.query(`VACUUM ${VACUUMED_TABLES.join(', ')}`);
      // Single-user PostgreSQL has no checkpointer: without this, WAL segments are never recycled.
      await db.query('CHECKPOINT');
    } else if (changed.checkpointBatches >= cadence.checkpointBatches) {
      changed.checkpointBatches = 0;
      await db.query(`VACUUM ${CHECKPOINT_TABLES.join(', ')}`);
    }
  };

  let ended: StreamRunSummary['ended'] = 'stopped';
  while (options.signal?.aborted !== true) {
    // Watermark alignment across instances: an instance far ahead in event time waits for the
    // group's slowest live partition (bounded, in case that partition's owner is stuck). While it
    // waits it still takes assignment changes (a control-only poll): after a rebalance, the
    // partition the group waits for may have been handed to this very instance.
    const throttled = processor.leadOverGroup > maxLeadMs && (throttledSince === null || clock() - throttledSince < 120_000);
    if (throttled) throttledSince ??= clock();
    else throttledSince = null;
    const polled = await source.poll(throttled ? 0 : options.batchMaxMessages, throttled ? 200 : options.batchMaxWaitMs);
    const startedAt = clock();
    if (polled.kind === 'assigned') {
      for (const partition of polled.partitions) {
        processor.assign(await loadPartitionCheckpoint(db, consumer, polled.source, partition));
      }
      log.info('partitions assigned', { source: polled.source, partitions: polled.partitions });
      processor.resetExternal();
      externalVersions = new Map();
      // Read the group's clocks (and the log's ends) before the first message of the new
      // assignment: a processor that has not seen them would take the minimum over its own
      // partitions only, and a watermark never goes back.
      logEndsAt = Number.NEGATIVE_INFINITY;
      await commit(await flush(), startedAt);
    } else if (polled.kind === 'revoked') {
      for (const partition of polled.partitions) processor.revoke(polled.source, partition);
      processor.resetExternal();
      externalVersions = new Map();
      log.info('partitions revoked', { source: polled.source, partitions: polled.partitions });
    } else if (polled.kind === 'messages') {
      totals.messages += polled.messages.length;
      changed.messages += polled.messages.length;
      metrics?.eventsIn.inc({}, polled.messages.length);
      // A throttled instance flushes every round: the flush reloads the group's clocks.
      if (polled.messages.length === 0 && !throttled && startedAt - lastFlushAt < idleFlushMs) continue;
      processor.process(polled.messages, polled.heldBack);
      await commit(await flush(), startedAt);
      lastFlushAt = clock();
      await maintain();
      // Caught up (the batch was not full): let the next events gather instead of committing each few.
      const rest = startedAt + (options.batchMinIntervalMs ?? 0) - clock();
      if (rest > 0 && polled.messages.length < options.batchMaxMessages) await sleep(rest, options.signal);
    } else {
      processor.finish();
      await commit(await flush(), startedAt);
      ended = 'source-exhausted';
      break;
    }
  }
  // Stopping: the provisional rows catch up with the last batch (they may be up to a second behind).
  if (ended === 'stopped' && processor.ownedPartitions().length > 0) await commit(await flush(true), clock());
  return { ...totals, watermark: processor.watermark, ended };
}

