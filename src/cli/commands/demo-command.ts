// `tidemark demo` (= `npm start`): everything in one process with embedded defaults, on the same
// code paths as production. The built-in generator is a live source (DEMO_BACKFILL of history
// first, then events in real time); the stream keeps the hot marts in PGlite (or DATABASE_URL);
// the curated archive writer reads its own copy of the generator into the lake (LAKE_URL); the
// in-process scheduler runs the daily flow (and API-started backfills) over that lake; the
// console, API, metrics and alert webhook run beside them. Ctrl-C stops every part after the
// work in flight; a restart resumes the same generated sequence from the checkpoints.
import type { TidemarkConfig } from '../../config.ts';
import { loadConfigFromProcess } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { createGeneratorSource, createLiveGeneratorSource } from '../../io/generator/generator-source.ts';
import type { LiveGeneratorSource } from '../../io/generator/generator-source.ts';
import { createLogger } from '../../io/log.ts';
import type { Logger } from '../../io/log.ts';
import { Registry, archiveMetrics, operatorMetrics, streamMetrics } from '../../io/metrics.ts';
import { runStream } from '../../io/stream-runner.ts';
import { archiveComponent } from '../app/archive-component.ts';
import { runComponents } from '../app/components.ts';
import type { Component } from '../app/components.ts';
import { inProcessJobs } from '../app/in-process-jobs.ts';
import { configuredAlertNotifier } from '../app/job-alerts.ts';
import { jobControlFor } from '../app/job-control.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';
import { runStreamCommand, streamSettings } from './stream-commands.ts';

export const DEMO_CONSUMER = 'demo';
/** The archive writer's checkpoint name: its offsets are its own, apart from the stream's. */
export const DEMO_ARCHIVE_CONSUMER = 'demo-archive';
const LIVE_PREFIX = 'generator:live:';

/** A short prelude of traffic a day before the history, so the 24 h clinical trend has a previous day to compare with. */
const PRELUDE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

/** Generator parameters, stored in the source name so that a restart regenerates the same sequence. */
interface LiveParams {
  /** Start of the prelude; it lasts PRELUDE_MS, then nothing until historyMs. */
  readonly startMs: number;
  /** Start of the history that runs into live traffic. */
  readonly historyMs: number;
  readonly seed: number;
  readonly rate: number;
  readonly anomalyEveryMs: number;
}

function liveName(p: LiveParams): string {
  return `live:${p.startMs}:${p.historyMs}:${p.seed}:${p.rate}:${p.anomalyEveryMs}`;
}

function parseLiveSource(source: string): LiveParams | undefined {
  const parts = source.slice(LIVE_PREFIX.length).split(':').map(Number);
  if (parts.length !== 5 || !parts.every(Number.isSafeInteger)) return undefined;
  const [startMs, historyMs, seed, rate, anomalyEveryMs] = parts as [number, number, number, number, number];
  return { startMs, historyMs, seed, rate, anomalyEveryMs };
}

async function resumeOrStart(db: Database, config: TidemarkConfig, log: Logger): Promise<LiveParams> {
  const { rows } = await db.query<{ source: string }>(
    `SELECT source FROM stream_partitions WHERE consumer = $1 AND starts_with(source, $2) ORDER BY updated_at DESC LIMIT 1`,
    [DEMO_CONSUMER, LIVE_PREFIX],
  );
  const stored = rows[0] === undefined ? undefined : parseLiveSource(rows[0].source);
  if (stored !== undefined) {
    log.info('resuming the generated sequence from its checkpoint', { source: rows[0]!.source });
    return stored;
  }
  // Whole minutes, so the first traffic minute is complete.
  const historyMs = Math.floor((Date.now() - config.generator.backfillMs) / 60_000) * 60_000;
  const startMs = historyMs - DAY_MS;
  return { startMs, historyMs, seed: (historyMs / 60_000) % 1_000_000, rate: config.generator.eventsPerSecond, anomalyEveryMs: config.generator.anomalyEveryMs };
}

export function liveDemoSource(params: LiveParams): LiveGeneratorSource {
  return createLiveGeneratorSource({
    name: liveName(params),
    generator: {
      startMs: params.startMs,
      eventsPerSecond: params.rate,
      seed: params.seed,
      anomalyEveryMs: params.anomalyEveryMs,
      loadCurve: true,
      quiet: { fromMs: params.startMs + PRELUDE_MS, toMs: params.historyMs },
      // A trickle of bad input, so dead letters, late events and dedup show on the console.
      lateEvery: 997,
      duplicateEvery: 499,
      malformedEvery: 1999,
    },
  });
}

async function runLiveDemo(config: TidemarkConfig): Promise<number> {
  const log = createLogger(config.log.level, { component: 'demo' });
  const stop = new AbortController();
  const onSignal = (signal: string): void => {
    log.info('stopping: finishing the batch in flight', { signal });
    stop.abort();
  };
  // Installed before the (slow, first-time) database start, so Ctrl-C then still exits cleanly.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
    const params = await resumeOrStart(db, config, log);
    const source = liveDemoSource(params);
    const registry = new Registry();
    const metrics = streamMetrics(registry);
    const operator = operatorMetrics(registry);
    let committed = 0;
    // Lag = messages due by now that the stream has not committed yet.
    const lag = async (): Promise<number> => source.backlog() + Math.max(0, source.nextOffset() - committed);

    const stream: Component = {
      name: 'stream',
      run: async (signal, started) => {
        started();
        await runStream({
          db,
          source,
          consumer: DEMO_CONSUMER,
          settings: streamSettings(config),
          batchMaxMessages: config.stream.batchMaxMessages,
          batchMaxWaitMs: config.stream.batchMaxWaitMs,
          log: createLogger(config.log.level, { component: 'stream', consumer: DEMO_CONSUMER }),
          metrics,
          signal,
          onCommit: (batch) => {
            for (const p of batch.partitions) committed = Math.max(committed, Number(p.nextOffset));
          },
        });
      },
    };
    const jobs = inProcessJobs({
      config,
      db,
      log: createLogger(config.log.level, { component: 'jobs' }),
      alerts: configuredAlertNotifier(config, operator),
      // Yesterday's start-up run waits for the catch-up: reconcile and quality then see hot rows
      // the stream has finished with.
      readyForStartupRun: async () => (await lag()) < Math.max(1000, config.generator.eventsPerSecond * 10),
    });
    const components: Component[] = [
      ...operatorSurface({
        config,
        db,
        registry,
        metrics: operator,
        log,
        lag,
        consumers: [DEMO_CONSUMER],
        jobs: jobControlFor(jobs.service),
        onListening: (port) => log.info(`console on http://localhost:${port}/`, { port }),
      }),
      stream,
      archiveComponent({
        config,
        db,
        // Its own generator with the stream's parameters: the very messages the stream reads.
        source: () => liveDemoSource(params),
        consumer: DEMO_ARCHIVE_CONSUMER,
        log: createLogger(config.log.level, { component: 'archive', consumer: DEMO_ARCHIVE_CONSUMER }),
        metrics: archiveMetrics(registry),
      }),
      jobs.component,
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
writer into LAKE_URL (default TIDEMARK_HOME/lake), an in-process scheduler running the daily
flow at 02:00 MART_TIMEZONE (and once at start-up for yesterday, after the catch-up, unless it
ran already), and the console, JSON API and /metrics on http://localhost:PORT/. With
TIDEMARK_API_TOKEN set, POST /api/backfill and /api/reconcile start runs here. Anomaly, failed
job and failed quality-check alerts go to ALERT_WEBHOOK_URL when set.
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
