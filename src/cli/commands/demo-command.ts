// `tidemark demo` (= `npm start`): everything in one process with embedded defaults. The built-in
// generator is a live source (a few hours of history first, then events in real time), the
// stream keeps the hot marts in PGlite (or DATABASE_URL), and the console, API, metrics and the
// alert webhook run beside it. Ctrl-C stops every part after the batch in flight; a restart
// resumes the same generated sequence from the checkpoint.
import type { TidemarkConfig } from '../../config.ts';
import { loadConfigFromProcess } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { createGeneratorSource, createLiveGeneratorSource } from '../../io/generator/generator-source.ts';
import type { LiveGeneratorSource } from '../../io/generator/generator-source.ts';
import { createLogger } from '../../io/log.ts';
import type { Logger } from '../../io/log.ts';
import { Registry, operatorMetrics, streamMetrics } from '../../io/metrics.ts';
import { runStream } from '../../io/stream-runner.ts';
import { runComponents } from '../app/components.ts';
import type { Component } from '../app/components.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';
import { runStreamCommand, streamSettings } from './stream-commands.ts';

export const DEMO_CONSUMER = 'demo';
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
    const components: Component[] = [
      ...operatorSurface({
        config,
        db,
        registry,
        metrics: operator,
        log,
        lag,
        consumers: [DEMO_CONSUMER],
        onListening: (port) => log.info(`console on http://localhost:${port}/`, { port }),
      }),
      stream,
      // Merge hook: the curated archive writer (generator → lake) and the in-process scheduler of
      // the daily flow join here as components; JobControl for the API comes from the scheduler.
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
    summary: 'Everything in one process: live generated traffic, stream, console on PORT (until Ctrl-C)',
    usage: `tidemark demo [--once [--events N]]

Runs the whole engine on one machine with embedded defaults: the built-in generator as a live
source (DEMO_BACKFILL of history first, then GENERATOR_RATE events/s in real time, with an
anomalous session every GENERATOR_ANOMALY_EVERY and a trickle of late, duplicate and malformed
messages), the stream into PGlite under TIDEMARK_HOME (or DATABASE_URL), and the console, JSON
API and /metrics on http://localhost:PORT/. Anomaly alerts go to ALERT_WEBHOOK_URL when set.
Ctrl-C (SIGINT) or SIGTERM stops after the batch in flight and exits 0; a restart resumes from
the checkpoint.
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
