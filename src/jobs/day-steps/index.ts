// The daily steps as the commands build them from configuration: the lake named by LAKE_URL
// (S3 or a local folder), the mart settings, a logger. The queue layer depends only on the
// Record<DayStepName, DayStep> and the FullRefreshStep this returns.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import type { IdleRule } from '../../io/mart-store/idle-watermarks.ts';
import { createLogger } from '../../io/log.ts';
import type { Logger } from '../../io/log.ts';
import type { DayStep, DayStepName, FullRefreshStep } from '../day-step.ts';
import { createDaySteps } from './create-day-steps.ts';
import { createFullRefreshStep } from './full-refresh.ts';
import { runAuditedRetention } from '../retention-job.ts';
import { createJobService } from '../job-service.ts';
import type { JobService } from '../job-service.ts';
import type { AlertNotifier } from '../../io/alerts/alert-notifier.ts';
import type { QueuePort } from '../../io/queue/queue-port.ts';

/** The idleness rule of the watermarks the steps wait for, on KAFKA_TOPIC (idle-watermarks.ts). */
function idleRuleOf(config: TidemarkConfig): IdleRule {
  const brokers = [...config.kafka.brokers];
  const topic = config.kafka.topic;
  return {
    source: `kafka:${topic}`,
    // The Kafka driver is loaded on the first call, with KAFKA_BROKERS set.
    logEndOffsets: async () => (await import('../../io/kafka/kafka-admin.ts')).endOffsets(brokers, topic),
    watermarkDelayMs: config.stream.watermarkDelayMs,
    idleTimeoutMs: config.stream.idlePartitionTimeoutMs,
    now: Date.now,
  };
}

interface ConfiguredSteps {
  readonly steps: Record<DayStepName, DayStep>;
  readonly fullRefresh: FullRefreshStep;
}

function createConfiguredSteps(deps: { readonly db: Database; readonly config: TidemarkConfig }): ConfiguredSteps {
  const { db, config } = deps;
  // One lake and one logger for every step: they share the S3 client's connections.
  const stepDeps = {
    db,
    lake: openLake(config.lake, config.s3),
    settings: { marts: config.marts },
    log: createLogger(config.log.level, { component: 'day-steps' }),
    clock: Date.now,
    ...(config.kafka.brokers.length === 0 ? {} : { idle: idleRuleOf(config) }),
  };
  return { steps: createDaySteps(stepDeps), fullRefresh: createFullRefreshStep(stepDeps) };
}

/**
 * What a process that runs jobs (`worker`, `backfill`, the demo's in-process scheduler) gives its
 * job service: the day steps, the full refresh, and the retention the daily trigger runs.
 */
function createConfiguredJobWork(deps: { readonly db: Database; readonly config: TidemarkConfig; readonly log: Logger }): ConfiguredSteps & {
  readonly dailyRetention: () => Promise<void>;
} {
  const { db, config, log } = deps;
  return {
    ...createConfiguredSteps(deps),
    // The daily trigger deletes what is past HOT_RETENTION_DAYS (and 30 days) once a day.
    dailyRetention: async () => {
      await runAuditedRetention({ db, clock: Date.now, log }, {
        hotRetentionDays: config.retention.hotDays,
        dryRun: false,
        requestedBy: 'scheduler',
        vacuum: db.dialect === 'pglite',
      });
    },
  };
}

/** A job service that runs the configured work (MART_TIMEZONE, JOB_CONCURRENCY) on `queue`. */
export function createConfiguredJobService(deps: {
  readonly db: Database;
  readonly config: TidemarkConfig;
  readonly queue: QueuePort;
  readonly log: Logger;
  readonly alerts?: AlertNotifier;
}): JobService {
  const { db, config, queue, log, alerts } = deps;
  return createJobService({
    db,
    queue,
    ...createConfiguredJobWork({ db, config, log }),
    timeZone: config.marts.timeZone,
    concurrency: config.jobs.concurrency,
    log,
    ...(alerts === undefined ? {} : { alerts }),
  });
}
