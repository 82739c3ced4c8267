// `tidemark demo` (= `npm start`): everything in one process with embedded defaults, on the same
// code paths as production. The built-in generator is a live source (DEMO_BACKFILL of history
// first, then events in real time); the stream keeps the hot marts in PGlite (or DATABASE_URL);
// the curated archive writer reads its own copy of the generator into the lake (LAKE_URL); the
// scheduler runs the daily flow (and API-started backfills) over that lake; the console, API,
// metrics and alert webhook run beside them. Ctrl-C stops every part after the work in flight;
// a restart resumes the same generated sequence from the checkpoints.
// Each embedded default gives way to the real service when configured (SPEC §9): with
// KAFKA_BROKERS the generator produces into KAFKA_TOPIC and the stream and archive consume it
// as `tidemark stream` / `tidemark archive` do; with REDIS_URL the scheduler is a BullMQ worker
// on the shared queue and bull-board is served under /admin/queues.
import type { TidemarkConfig } from '../../config.ts';
import { loadConfigFromProcess } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import type { PgliteDatabase } from '../../io/db/pglite-database.ts';
import { createGeneratorSource } from '../../io/generator/generator-source.ts';
import { DEFAULT_QUEUE_NAME } from '../../jobs/job-service.ts';
import { createLogger } from '../../io/log.ts';
import { Registry, archiveMetrics, operatorMetrics, streamMetrics } from '../../io/metrics.ts';
import { runStream } from '../../io/stream-runner.ts';
import { archiveComponent } from '../app/archive-component.ts';
import { runComponents } from '../app/components.ts';
import type { Component } from '../app/components.ts';
import { QUEUE_BOARD_PREFIX } from '../app/console-jobs.ts';
import { DEMO_TOPIC_PARTITIONS, demoFeed } from '../app/demo-feed.ts';
import { keepWebAssemblyOnLiftoff } from '../app/demo-process-flags.ts';
import { memoryKeeper } from '../app/memory-keeper.ts';
import { configuredAlertNotifier } from '../app/job-alerts.ts';
import { jobControlFor } from '../app/job-control.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { checkRedis } from '../app/redis-check.ts';
import { schedulerJobs } from '../app/scheduler-jobs.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';
import { runStreamCommand, streamSettings } from './stream-commands.ts';

/** PGlite's WebAssembly memory is a large, never-shrinking part of the demo's RSS: show it beside the heap. */
function embeddedMemoryMetric(registry: Registry, db: Database): void {
  const embedded = db as Database & Partial<Pick<PgliteDatabase, 'wasmMemoryBytes'>>;
  if (embedded.wasmMemoryBytes === undefined) return;
  const gauge = registry.gauge('tidemark_embedded_db_memory_bytes', "The embedded database's (PGlite) WebAssembly memory, bytes");
  registry.addCollector(async () => gauge.set(embedded.wasmMemoryBytes!()));
}

async function runLiveDemo(config: TidemarkConfig): Promise<number> {
  const log = createLogger(config.log.level, { component: 'demo' });
  // The same refusal as `tidemark worker`: BullMQ on an evicting Redis loses jobs silently.
  const redisUrl = config.redis.url;
  if (redisUrl !== null) {
    const refused = await checkRedis(redisUrl, 'demo');
    if (refused !== null) return refused;
  }
  const stop = new AbortController();
  const onSignal = (signal: string): void => {
    if (!stop.signal.aborted) log.info('stopping: finishing the batch in flight', { signal });
    stop.abort();
  };
  // Installed before the (slow, first-time) database start, so Ctrl-C then still exits cleanly.
  // `on`, not `once`: under `npm start` a Ctrl-C reaches this process twice (from the terminal,
  // and forwarded by npm), and a second SIGINT without a handler would kill it (exit 130).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Before PGlite compiles its WebAssembly at the open below (demo-process-flags.ts says why).
  if (config.database.url === null) keepWebAssemblyOnLiftoff();
  let db: Database;
  try {
    db = await openConfiguredDatabase(config);
  } catch (error) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  }
  try {
    if (stop.signal.aborted) return 0;
    const feed = await demoFeed(db, config, log);
    const registry = new Registry();
    const metrics = streamMetrics(registry);
    const operator = operatorMetrics(registry);
    embeddedMemoryMetric(registry, db);

    const stream: Component = {
      name: 'stream',
      run: async (signal, started) => {
        started();
        await runStream({
          db,
          source: feed.streamSource,
          consumer: feed.streamConsumer,
          settings: streamSettings(config),
          batchMaxMessages: config.stream.batchMaxMessages,
          batchMaxWaitMs: config.stream.batchMaxWaitMs,
          batchMinIntervalMs: config.stream.batchMinIntervalMs,
          ...(feed.logEndOffsets === undefined ? {} : { logEndOffsets: feed.logEndOffsets }),
          log: createLogger(config.log.level, { component: 'stream', consumer: feed.streamConsumer }),
          metrics,
          signal,
          onCommit: (batch) => {
            for (const p of batch.partitions) feed.onCommit?.(Number(p.nextOffset));
          },
        });
      },
    };
    const caughtUp = async (): Promise<boolean> => (await feed.lag()) < Math.max(1000, config.generator.eventsPerSecond * 10);
    const jobs = await schedulerJobs({
      config,
      db,
      log: createLogger(config.log.level, { component: 'jobs' }),
      alerts: configuredAlertNotifier(config, operator),
      ...(redisUrl === null ? {} : { redis: { url: redisUrl, queueName: DEFAULT_QUEUE_NAME } }),
      // Yesterday's start-up run waits for the catch-up: reconcile and quality then see hot rows
      // the stream has finished with.
      readyForStartupRun: caughtUp,
    });
    const components: Component[] = [
      ...operatorSurface({
        config,
        db,
        registry,
        metrics: operator,
        log,
        lag: () => feed.lag(),
        consumers: [feed.streamConsumer],
        jobs: jobControlFor(jobs.service),
        mounts: jobs.mounts,
        onListening: (port) => log.info(`console on http://localhost:${port}/`, { port }),
      }),
      ...(feed.producer === undefined ? [] : [feed.producer]),
      stream,
      archiveComponent({
        config,
        db,
        source: feed.archiveSource,
        consumer: feed.archiveConsumer,
        ...(feed.logEndOffsets === undefined ? {} : { logEndOffsets: feed.logEndOffsets }),
        log: createLogger(config.log.level, { component: 'archive', consumer: feed.archiveConsumer }),
        metrics: archiveMetrics(registry),
      }),
      jobs.component,
      memoryKeeper({
        log,
        registry,
        busy: async () => !(await caughtUp()) || (await jobs.service.listRuns(5)).some((run) => run.outcome === 'running'),
      }),
    ];
    await runComponents(components, stop.signal, log);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db.close();
  }
}

async function runBoundedDemo(config: TidemarkConfig, count: number): Promise<number> {
  // Six hours of traffic ending now, so the 1 h and 24 h windows have something to show.
  const startMs = Date.now() - 6 * 3_600_000;
  const source = createGeneratorSource(`demo-${startMs}`, count, { startMs, eventsPerSecond: count / (6 * 3600), seed: startMs % 100_000, anomalyEvery: 4000 });
  const code = await runStreamCommand(config, source, 'demo-once');
  const db = await openConfiguredDatabase(config, { migrate: false });
  try {
    const top = await db.query<{ rank: number; document_id: string; title: string | null; click_count: number }>(
      `SELECT rank, document_id::text, title, click_count FROM mart_realtime_top_docs_1h
        WHERE snapshot_ts = (SELECT max(snapshot_ts) FROM mart_realtime_top_docs_1h WHERE snapshot_ts <= now())
        ORDER BY rank LIMIT 5`,
    );
    const anomalies = await db.query<{ session_id: string; severity: string; click_count: number }>(
      `SELECT session_id, severity, click_count FROM mart_realtime_anomaly_sessions ORDER BY detected_ts DESC LIMIT 5`,
    );
    process.stdout.write(
      `\nTop documents of the last hour:\n${top.rows.map((r) => `  ${r.rank}. ${r.title ?? `document ${r.document_id}`} — ${r.click_count} clicks`).join('\n')}\n` +
        `Anomalous sessions:\n${anomalies.rows.map((r) => `  ${r.severity.padEnd(8)} ${r.session_id} — ${r.click_count} clicks in 5 min`).join('\n')}\n` +
        `Marts are in ${config.database.url === null ? `PGlite at ${config.database.embeddedDir}` : 'DATABASE_URL'}.\n`,
    );
  } finally {
    await db.close();
  }
  return code;
}

export const DEMO_COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'Everything in one process: generated traffic, stream, archive, daily jobs, console on PORT (until Ctrl-C)',
    usage: `tidemark demo [--once [--events N]]

Runs the whole engine on one machine with embedded defaults: the built-in generator as a live
source (DEMO_BACKFILL of history first, then GENERATOR_RATE events/s in real time, with an
anomalous session every GENERATOR_ANOMALY_EVERY and a trickle of late, duplicate and malformed
messages), the stream into PGlite under TIDEMARK_HOME (or DATABASE_URL), the curated archive
writer into LAKE_URL (default TIDEMARK_HOME/lake), a scheduler running the daily
flow at 02:00 MART_TIMEZONE (and once at start-up for yesterday, after the catch-up, unless it
ran already), and the console, JSON API and /metrics on http://localhost:PORT/. With
TIDEMARK_API_TOKEN set, POST /api/backfill and /api/reconcile start runs here. Anomaly, failed
job and failed quality-check alerts go to ALERT_WEBHOOK_URL when set.
Each part uses the real service when configured: DATABASE_URL; LAKE_URL and S3_*; KAFKA_BROKERS
(the generator produces into KAFKA_TOPIC, created with ${DEMO_TOPIC_PARTITIONS} partitions if missing, and the
stream and archive consume it as KAFKA_GROUP_ID and KAFKA_ARCHIVE_GROUP_ID, as \`tidemark stream\`
and \`tidemark archive\` do; a restart resumes producing from the topic's end offsets, so the
topic should be the demo's own); REDIS_URL (the scheduler is a BullMQ worker on the queue
${DEFAULT_QUEUE_NAME}, refused unless Redis is noeviction, and bull-board is served under
${QUEUE_BOARD_PREFIX} behind the token).
Ctrl-C (SIGINT) or SIGTERM stops after the work in flight and exits 0; a restart resumes from
the checkpoints.
  --once       bounded instead: generate N clicks over the last 6 hours, process them, print a
               summary and exit
  --events N   clicks for --once (default 10000)`,
    run: async (args) => {
      const { values } = parseFlags(args, { events: { type: 'string' }, once: { type: 'boolean' } });
      if (values.events !== undefined && values.once !== true) throw new UsageError('--events needs --once');
      const count = typeof values.events === 'string' ? Number(values.events) : 10_000;
      if (!Number.isSafeInteger(count) || count <= 0) throw new UsageError('--events must be a positive whole number');
      const config = loadConfigFromProcess();
      return values.once === true ? runBoundedDemo(config, count) : runLiveDemo(config);
    },
  },
};
