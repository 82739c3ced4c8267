// `tidemark archive`: the curated archive writer — Kafka (or a file) into the lake as snappy
// Parquet under curated/event_date=YYYY-MM-DD/, exactly once per offset.
import { ConfigError, loadConfigFromProcess } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import { runArchive } from '../../io/archive/archive-writer.ts';
import { createJsonLinesSource } from '../../io/file/json-lines-source.ts';
import { createParquetFileSource } from '../../io/file/parquet-source.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import { createLogger } from '../../io/log.ts';
import { Registry, archiveMetrics, operatorMetrics } from '../../io/metrics.ts';
import type { MessageSource } from '../../io/source.ts';
import { archiveSettings } from '../app/archive-component.ts';
import { runComponents } from '../app/components.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import type { Component } from '../app/components.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { archiveLag } from '../app/consumer-lag.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';

export const ARCHIVE_COMMANDS: Record<string, Command> = {
  archive: {
    summary: 'Archive Kafka (or a file) into the lake as Parquet, exactly once, until SIGINT/SIGTERM',
    usage: `tidemark archive [FILE] [--consumer NAME] [--http]

Consumes KAFKA_TOPIC as consumer group KAFKA_ARCHIVE_GROUP_ID and writes every valid event to
LAKE_URL as snappy Parquet, one object per (event date in MART_TIMEZONE, partition, offset range):
  curated/event_date=YYYY-MM-DD/<topic>-pPPPP-o<first>-o<last>.parquet
The buffer is flushed at ARCHIVE_FLUSH_ROWS messages, ARCHIVE_FLUSH_BYTES or ARCHIVE_FLUSH_INTERVAL,
whichever comes first; offsets, the archive watermark and lake_days are committed to the database
after each upload, so every offset is in the lake exactly once even after kill -9. Invalid and
far-future messages are not archived (the stream dead-letters them). On SIGINT or SIGTERM it
flushes what is buffered, commits and exits 0.
With FILE (JSON Lines, or Parquet when the name ends in .parquet) it archives the file instead,
a bounded source: at its end the archive watermark becomes +∞.
  --consumer NAME   checkpoint name for FILE (default: archive-file)
  --http            also serve /healthz, /readyz, /metrics (this writer's archive metrics: watermark,
                    rows, objects, flush durations; plus consumer lag and job metrics), the API and
                    the console on PORT`,
    run: async (args) => {
      const { values, positionals } = parseFlags(args, { consumer: { type: 'string' }, http: { type: 'boolean' } });
      const http = values.http === true;
      if (positionals.length > 1) throw new UsageError('archive takes at most one FILE');
      const config = loadConfigFromProcess();
      const file = positionals[0];
      if (file !== undefined) {
        const source = file.endsWith('.parquet') ? createParquetFileSource(file) : createJsonLinesSource(file);
        return runArchiveCommand(config, source, typeof values.consumer === 'string' ? values.consumer : 'archive-file', undefined, http);
      }
      if (typeof values.consumer === 'string') throw new UsageError('--consumer applies to FILE; Kafka uses KAFKA_ARCHIVE_GROUP_ID');
      if (config.kafka.brokers.length === 0) {
        throw new ConfigError('KAFKA_BROKERS', 'KAFKA_BROKERS is not set; `tidemark archive` needs a Kafka cluster (host:port,…) or a FILE');
      }
      const { kafkaArchiveSource, topicEndOffsets } = await import('../app/kafka-sources.ts');
      return runArchiveCommand(config, kafkaArchiveSource(config), config.kafka.archiveGroupId, topicEndOffsets(config), http);
    },
  },
};

export async function runArchiveCommand(
  config: TidemarkConfig,
  source: MessageSource | (() => MessageSource),
  consumer: string,
  logEndOffsets?: () => Promise<ReadonlyMap<number, string>>,
  http = false,
): Promise<number> {
  const log = createLogger(config.log.level, { component: 'archive', consumer });
  // An unreachable database at start is one line naming the key (exit 69), as for the stream.
  const db = await openConfiguredDatabase(config);
  const lake = openLake(config.lake, config.s3);
  const stop = new AbortController();
  const onSignal = (signal: string): void => {
    log.info('stopping: flushing what is buffered', { signal });
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const registry = new Registry();
    const metrics = archiveMetrics(registry);
    const archive: Component = {
      name: 'archive',
      run: async (signal, started) => {
        started();
        const startedAt = Date.now();
        const summary = await runArchive({
          db,
          lake,
          source,
          consumer,
          settings: archiveSettings(config),
          ...(logEndOffsets === undefined ? {} : { logEndOffsets }),
          log,
          metrics,
          signal,
          dbOutageLimitMs: config.stream.dbOutageLimitMs,
          lakeOutageLimitMs: config.archive.lakeOutageLimitMs,
        });
        const elapsedMs = Date.now() - startedAt;
        log.info('archive finished', {
          ...summary,
          watermark: Number.isFinite(summary.watermark) ? new Date(summary.watermark).toISOString() : String(summary.watermark),
          lake: lake.url,
          elapsedMs,
        });
      },
    };
    // Prometheus scrapes the writer itself (archive watermark, flushes); the surface's own
    // collectors add consumer lag and job metrics from the database.
    const lag = async (): Promise<number | null> => (logEndOffsets === undefined ? null : archiveLag(db, consumer, `kafka:${config.kafka.topic}`, logEndOffsets));
    const surface = http ? operatorSurface({ config, db, registry, metrics: operatorMetrics(registry), log, lag }) : [];
    await runComponents([...surface, archive], stop.signal, log);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lake.close();
    await db.close();
  }
}
