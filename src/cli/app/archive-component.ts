// The curated archive writer as a component of a long-running process: the demo runs it beside
// the stream, over its own copy of the generator (or over KAFKA_TOPIC with KAFKA_BROKERS), so that the lake (LAKE_URL, a local folder by
// default) fills exactly as `tidemark archive` fills it from Kafka — and the daily flow has
// Parquet to recompute the cold marts from.
import type { TidemarkConfig } from '../../config.ts';
import { runArchive } from '../../io/archive/archive-writer.ts';
import type { ArchiveSettings } from '../../io/archive/archive-writer.ts';
import type { Database } from '../../io/db/database.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import type { Logger } from '../../io/log.ts';
import type { ArchiveMetrics } from '../../io/metrics.ts';
import type { MessageSource } from '../../io/source.ts';
import type { Component } from './components.ts';

export interface ArchiveComponentOptions {
  readonly config: TidemarkConfig;
  readonly db: Database;
  /** A fresh source per start: the writer claims its partitions and reads from the committed offset. */
  readonly source: () => MessageSource;
  /** Checkpoint name of the archive's state (archive_partitions), distinct from the stream's. */
  readonly consumer: string;
  /** The log's end offsets (Kafka), for the archive's lag metrics. */
  readonly logEndOffsets?: () => Promise<ReadonlyMap<number, string>>;
  readonly log: Logger;
  readonly metrics?: ArchiveMetrics;
}

/** The archive writer's settings from configuration (the watermark follows the stream's). */
export function archiveSettings(config: TidemarkConfig): ArchiveSettings {
  return {
    timeZone: config.marts.timeZone,
    watermarkDelayMs: config.stream.watermarkDelayMs,
    maxFutureSkewMs: config.stream.maxFutureSkewMs,
    idlePartitionTimeoutMs: config.stream.idlePartitionTimeoutMs,
    limits: { maxRows: config.archive.flushRows, maxBytes: config.archive.flushBytes, maxAgeMs: config.archive.flushIntervalMs },
  };
}

export function archiveComponent(options: ArchiveComponentOptions): Component {
  const { config } = options;
  return {
    name: 'archive',
    async run(signal, started) {
      const lake = openLake(config.lake, config.s3);
      started();
      try {
        // Stopping flushes and commits what is buffered, so a restart loses nothing.
        await runArchive({
          db: options.db,
          lake,
          source: options.source,
          consumer: options.consumer,
          settings: archiveSettings(config),
          ...(options.logEndOffsets === undefined ? {} : { logEndOffsets: options.logEndOffsets }),
          log: options.log,
          ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
          signal,
          dbOutageLimitMs: config.stream.dbOutageLimitMs,
          lakeOutageLimitMs: config.archive.lakeOutageLimitMs,
        });
      } finally {
        await lake.close();
      }
    },
  };
}
