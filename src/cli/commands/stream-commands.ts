// The hot-path commands: `stream` (Kafka), `replay` (a file) and `db migrate`.
import { ConfigError, loadConfigFromProcess } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { migrate } from '../../io/db/migrate.ts';
import { createJsonLinesSource } from '../../io/file/json-lines-source.ts';
import { createParquetFileSource } from '../../io/file/parquet-source.ts';
import { createLogger } from '../../io/log.ts';
import { Registry, operatorMetrics, streamMetrics } from '../../io/metrics.ts';
import { EXIT_DATA_ERROR, InputFileError, checkInputFile } from '../../io/file/input-file.ts';
import { runStream } from '../../io/stream-runner.ts';
import type { StreamRunSummary } from '../../io/stream-runner.ts';
import type { MessageSource } from '../../io/source.ts';
import type { StreamSettings } from '../../stream/stream-processor.ts';
import { runComponents } from '../app/components.ts';
import { streamLag } from '../app/consumer-lag.ts';
import type { Component } from '../app/components.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { UsageError, parseFlags } from '../command.ts';
import { isLakeUrl, openLakeReplaySource } from './lake-replay.ts';
import { guardReplay } from './replay-guard.ts';
import type { Command } from '../command.ts';

export const STREAM_COMMANDS: Record<string, Command> = {
  stream: {
    summary: 'Consume Kafka into the hot marts until SIGINT/SIGTERM',
    usage: `tidemark stream [--http]

Consumes KAFKA_TOPIC as consumer group KAFKA_GROUP_ID and keeps the four hot marts exact.
Each micro-batch (STREAM_BATCH_MAX_MESSAGES / STREAM_BATCH_MAX_WAIT) commits mart rows, offsets,
watermark and operator state in one transaction. On SIGINT or SIGTERM it finishes the batch in
flight, commits it and exits 0. Requires KAFKA_BROKERS.
  --http   also serve /healthz, /readyz, /metrics (this process's stream metrics), the API and
           the console on PORT, and deliver the alert outbox to ALERT_WEBHOOK_URL`,
    run: async (args) => {
      const { values } = parseFlags(args, { http: { type: 'boolean' } });
      const config = loadConfigFromProcess();
      if (config.kafka.brokers.length === 0) throw new ConfigError('KAFKA_BROKERS', 'KAFKA_BROKERS is not set; `tidemark stream` needs a Kafka cluster (host:port,…)');
      const { kafkaStreamSource, topicEndOffsets } = await import('../app/kafka-sources.ts');
      return runStreamCommand(config, kafkaStreamSource(config), config.kafka.groupId, topicEndOffsets(config), values.http === true);
    },
  },
  replay: {
    summary: 'Replay a JSON Lines file, a Parquet file or a lake prefix into the hot marts (bounded)',
    usage: `tidemark replay FILE|s3://bucket/prefix|file:///lake [--consumer NAME]

Reads FILE through the same engine as \`tidemark stream\`: JSON Lines (one raw message per line),
or Parquet in the curated archive's schema when the name ends in .parquet, or every Parquet
object under a lake prefix (s3:// with the S3_* settings, or file://), read date folder by date
folder with the partitions merged in event-time order. Each is a bounded source: at its end the watermark becomes +∞ and every window is final. A replay
resumes after the last committed line, so running it twice applies nothing twice.
A replay that could only discard or overwrite is refused (exit 64) before it reads anything: a
consumer that finished replaying another input (its watermark is final: every event would be
late), or a new consumer while another consumer's results are in the hot marts (it would
overwrite the minutes they share). Replay into an empty database, or all inputs as one file.
A file of which no message is an event exits 65; a missing file or a folder 66. A Parquet file,
lake object or row group that cannot be read is dead-lettered as one message (parquet_unreadable,
or parquet_schema when its schema is not the archive's) and the replay goes on, with a warning.
  --consumer NAME   checkpoint name (default: replay)`,
    run: async (args) => {
      const { values, positionals } = parseFlags(args, { consumer: { type: 'string' } });
      if (positionals.length !== 1) throw new UsageError('replay takes exactly one FILE');
      const config = loadConfigFromProcess();
      const file = positionals[0]!;
      // A missing file or a folder is reported before the database is opened (a second or more).
      if (!isLakeUrl(file)) await checkInputFile(file);
      // Parquet that cannot be read is dead-lettered part by part; the run goes on.
      const unreadable: string[] = [];
      const onUnreadable = (detail: string): void => {
        unreadable.push(detail);
      };
      const source = isLakeUrl(file)
        ? openLakeReplaySource(config, file, onUnreadable)
        : file.endsWith('.parquet')
          ? createParquetFileSource(file, Date.now, { onUnreadable })
          : createJsonLinesSource(file, Date.now, { deadLetterMaxBytes: config.stream.deadLetterMaxBytes });
      const consumer = typeof values.consumer === 'string' ? values.consumer : 'replay';
      return runStreamCommand(config, source, consumer, undefined, false, {
        wrapSource: (db, s) => guardReplay(db, consumer, file, s),
        afterRun: (summary) => {
          // A file of which no line is an event is the wrong file (binary, a JSON array, another
          // format): say so instead of exiting 0 with every line in dead_letter_events.
          if (summary.messages > 0 && summary.deadLetters === summary.messages) {
            throw new InputFileError(
              unreadable.length > 0 && summary.messages === unreadable.length
                ? `${unreadable[0]} (dead-lettered, see dead_letter_events)`
                : `${file}: none of its ${summary.messages} messages is an event (all dead-lettered, see dead_letter_events); expected JSON Lines with one event object per line, or Parquet in the archive's schema`,
              EXIT_DATA_ERROR,
            );
          }
          if (unreadable.length > 0) {
            const more = unreadable.length > 1 ? ` (and ${unreadable.length - 1} more)` : '';
            process.stderr.write(`tidemark: warning: ${unreadable[0]}${more}; dead-lettered, the rest was replayed\n`);
          }
        },
      });
    },
  },
  db: {
    summary: 'Database administration: `tidemark db migrate`',
    usage: `tidemark db migrate

Applies the SQL migrations in db/migrations that the database has not seen yet, each in its
own transaction, under an advisory lock (safe to run from several processes).`,
    run: async (args) => {
      const { positionals } = parseFlags(args, {});
      if (positionals[0] !== 'migrate' || positionals.length !== 1) throw new UsageError('usage: tidemark db migrate');
      const config = loadConfigFromProcess();
      const db = await openConfiguredDatabase(config, { migrate: false });
      try {
        const result = await migrate(db);
        process.stdout.write(result.applied.length === 0 ? 'database is up to date\n' : `applied: ${result.applied.join(', ')}\n`);
      } finally {
        await db.close();
      }
      return 0;
    },
  },
};

export function streamSettings(config: TidemarkConfig): StreamSettings {
  return {
    marts: config.marts,
    watermarkDelayMs: config.stream.watermarkDelayMs,
    maxFutureSkewMs: config.stream.maxFutureSkewMs,
    idlePartitionTimeoutMs: config.stream.idlePartitionTimeoutMs,
  };
}

export async function runStreamCommand(
  config: TidemarkConfig,
  source: MessageSource | (() => MessageSource),
  consumer: string,
  logEndOffsets?: () => Promise<ReadonlyMap<number, string>>,
  http = false,
  hooks: {
    /** Wraps the source once the database is open (e.g. to refuse a replay). */
    readonly wrapSource?: (db: Database, source: MessageSource) => MessageSource;
    /** Judges the finished run; throws (e.g. an InputFileError) to fail the command. */
    readonly afterRun?: (summary: StreamRunSummary) => void;
  } = {},
): Promise<number> {
  const log = createLogger(config.log.level, { component: 'stream', consumer });
  const db = await openConfiguredDatabase(config);
  const stop = new AbortController();
  const onSignal = (signal: string): void => {
    log.info('stopping after the batch in flight', { signal });
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const registry = new Registry();
    const metrics = streamMetrics(registry);
    let finished: StreamRunSummary | undefined;
    const stream: Component = {
      name: 'stream',
      run: async (signal, started) => {
        started();
        const summary = await runStream({
          db,
          source: hooks.wrapSource === undefined ? source : () => hooks.wrapSource!(db, typeof source === 'function' ? source() : source),
          consumer,
          settings: streamSettings(config),
          batchMaxMessages: config.stream.batchMaxMessages,
          batchMaxWaitMs: config.stream.batchMaxWaitMs,
          batchMinIntervalMs: config.stream.batchMinIntervalMs,
          deadLetterMaxBytes: config.stream.deadLetterMaxBytes,
          dbOutageLimitMs: config.stream.dbOutageLimitMs,
          ...(logEndOffsets === undefined ? {} : { logEndOffsets }),
          log,
          metrics,
          signal,
        });
        finished = summary;
        log.info('stream finished', { ...summary, watermark: Number.isFinite(summary.watermark) ? new Date(summary.watermark).toISOString() : String(summary.watermark) });
      },
    };
    // Lag of this consumer over the log whose end offsets are given (Kafka): null without one.
    const lag = async (): Promise<number | null> =>
      logEndOffsets === undefined ? null : streamLag(db, consumer, `kafka:${config.kafka.topic}`, logEndOffsets);
    const surface = http ? operatorSurface({ config, db, registry, metrics: operatorMetrics(registry), log, lag, consumers: [consumer] }) : [];
    await runComponents([...surface, stream], stop.signal, log);
    if (finished !== undefined) hooks.afterRun?.(finished);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db.close();
  }
}

