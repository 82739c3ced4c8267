// tidemark's Prometheus metrics, on prom-client: its registry and text exposition, plus the
// default process and Node runtime metrics (CPU, memory, heap spaces, GC, event-loop lag, handles)
// that dashboards for Node expect. The thin classes below keep tidemark's call shape — labels as
// an object, declared up front — and its metric names; each process has its own Registry.
import * as client from 'prom-client';

type Labels = Readonly<Record<string, string>>;

export class Counter {
  readonly name: string;
  private readonly metric: client.Counter;
  constructor(registry: client.Registry, name: string, help: string, labelNames: readonly string[] = []) {
    this.name = name;
    this.metric = new client.Counter({ name, help, labelNames: [...labelNames], registers: [registry] });
  }
  inc(labels: Labels = {}, by = 1): void {
    this.metric.inc(labels, by);
  }
}

export class Gauge {
  readonly name: string;
  private readonly metric: client.Gauge;
  constructor(registry: client.Registry, name: string, help: string, labelNames: readonly string[] = []) {
    this.name = name;
    this.metric = new client.Gauge({ name, help, labelNames: [...labelNames], registers: [registry] });
  }
  set(value: number, labels: Labels = {}): void {
    this.metric.set(labels, value);
  }
}

export class Histogram {
  readonly name: string;
  private readonly metric: client.Histogram;
  constructor(registry: client.Registry, name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    this.name = name;
    this.metric = new client.Histogram({ name, help, buckets: [...buckets], labelNames: [...labelNames], registers: [registry] });
  }
  observe(value: number, labels: Labels = {}): void {
    this.metric.observe(labels, value);
  }
}

export class Registry {
  readonly registry = new client.Registry();
  private readonly collectors: (() => Promise<void>)[] = [];
  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) client.collectDefaultMetrics({ register: this.registry });
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter(this.registry, name, help, labelNames);
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return new Gauge(this.registry, name, help, labelNames);
  }
  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return new Histogram(this.registry, name, help, buckets, labelNames);
  }
  /** Runs before each scrape: gauges read from elsewhere (the database, a source) are set here. */
  addCollector(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }
  /** Refreshes the collected gauges; a failing collector leaves its gauges at their last value. */
  async collect(): Promise<void> {
    await Promise.allSettled(this.collectors.map((c) => c()));
  }
  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The stream processor's metrics. */
export function streamMetrics(registry: Registry) {
  return {
    eventsIn: registry.counter('tidemark_events_in_total', 'Messages read from the source.'),
    eventsApplied: registry.counter('tidemark_events_applied_total', 'On-time events applied to the hot marts.'),
    duplicates: registry.counter('tidemark_duplicate_events_total', 'Events dropped as duplicates of an applied event_id.'),
    deadLetters: registry.counter('tidemark_dead_letters_total', 'Messages sent to dead_letter_events, by reason.', ['reason']),
    lateEvents: registry.counter('tidemark_late_events_total', 'Events older than the watermark, recorded in late_events.'),
    alerts: registry.counter('tidemark_anomaly_alerts_total', 'Anomaly alerts raised, by severity.', ['severity']),
    fenced: registry.counter('tidemark_checkpoint_fenced_total', 'Batches refused because another instance took a partition over.'),
    watermarkDelay: registry.gauge('tidemark_watermark_delay_seconds', 'Wall clock minus the event-time watermark.'),
    checkpointAge: registry.gauge('tidemark_checkpoint_timestamp_seconds', 'Unix time of the last committed checkpoint.'),
    batchDuration: registry.histogram('tidemark_batch_duration_seconds', 'Micro-batch duration (process + commit).', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
  };
}
export type StreamMetrics = ReturnType<typeof streamMetrics>;

/** The curated archive writer's metrics. */
export function archiveMetrics(registry: Registry) {
  return {
    messagesIn: registry.counter('tidemark_archive_messages_in_total', 'Messages read by the archive writer.'),
    rowsArchived: registry.counter('tidemark_archive_rows_total', 'Events written to the lake.'),
    skipped: registry.counter('tidemark_archive_skipped_total', 'Messages not archived (invalid or far-future; the stream dead-letters them), by reason.', ['reason']),
    objectsWritten: registry.counter('tidemark_archive_objects_total', 'Parquet objects written to the lake.'),
    orphansDeleted: registry.counter('tidemark_archive_orphans_deleted_total', 'Objects of uncommitted flushes deleted before re-archiving.'),
    fenced: registry.counter('tidemark_archive_fenced_total', 'Flushes refused because another writer took a partition over.'),
    watermark: registry.gauge('tidemark_archive_watermark_seconds', 'Unix time of the archive watermark.'),
    flushDuration: registry.histogram('tidemark_archive_flush_duration_seconds', 'Flush duration (encode, upload, commit).', [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  };
}
export type ArchiveMetrics = ReturnType<typeof archiveMetrics>;
/** Operator-facing gauges and counters outside the stream loop: lag, checkpoint age, jobs, alert delivery. */
export function operatorMetrics(registry: Registry) {
  return {
    consumerLag: registry.gauge('tidemark_consumer_lag_messages', 'Messages the source holds that the stream has not committed yet.'),
    checkpointAge: registry.gauge('tidemark_checkpoint_age_seconds', 'Seconds since the newest stream checkpoint commit, per consumer.', ['consumer']),
    jobRuns: registry.counter('tidemark_job_runs_total', 'Finished job runs, by job and outcome.', ['job', 'outcome']),
    jobDuration: registry.histogram('tidemark_job_duration_seconds', 'Duration of finished job runs, by job.', [1, 5, 15, 60, 300, 900, 3600, 4 * 3600], ['job']),
    alertDeliveries: registry.counter('tidemark_alert_deliveries_total', 'Webhook deliveries, by kind and outcome.', ['kind', 'outcome']),
    reconcileDrift: registry.gauge('tidemark_reconcile_drift_rows', 'Hot rows the latest reconcile of each mart changed, added or removed (its newest report).', ['mart']),
    reconcileCompared: registry.gauge('tidemark_reconcile_rows_compared', 'Hot rows the latest reconcile of each mart compared (its newest report).', ['mart']),
  };
}
export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
