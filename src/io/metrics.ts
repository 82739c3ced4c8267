// A minimal Prometheus registry (counters, gauges, histograms with labels) rendered in the text
// exposition format. Enough for tidemark's own metrics without a dependency.

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`).join(',');
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  readonly name: string;
  private readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [key, value] of this.values) lines.push(`${this.name}${key === '' ? '' : `{${key}}`} ${value}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  readonly name: string;
  private readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(labelKey(labels));
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key === '' ? '' : `{${key}}`} ${Number.isFinite(value) ? value : value > 0 ? '+Inf' : '-Inf'}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  readonly name: string;
  private readonly help: string;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = bounds;
  }
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { counts: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    series.sum += value;
    series.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) series.counts[i]!++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    // An unlabelled histogram shows zero buckets before its first observation, as it always did.
    const all = this.series.size === 0 ? new Map([['', { counts: this.bounds.map(() => 0), sum: 0, count: 0 }]]) : this.series;
    for (const [key, series] of all) {
      const prefix = key === '' ? '' : `${key},`;
      const suffix = key === '' ? '' : `{${key}}`;
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${prefix}le="${b}"} ${series.counts[i]}`));
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${series.count}`, `${this.name}_sum${suffix} ${series.sum}`, `${this.name}_count${suffix} ${series.count}`);
    }
    return lines.join('\n');
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => Promise<void>)[] = [];
  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  /** Runs before each scrape: gauges read from elsewhere (the database, a source) are set here. */
  addCollector(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }
  /** Refreshes the collected gauges; a failing collector leaves its gauges at their last value. */
  async collect(): Promise<void> {
    await Promise.allSettled(this.collectors.map((c) => c()));
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** The stream processor's metrics. */
export function streamMetrics(registry: Registry) {
  return {
    eventsIn: registry.register(new Counter('tidemark_events_in_total', 'Messages read from the source.')),
    eventsApplied: registry.register(new Counter('tidemark_events_applied_total', 'On-time events applied to the hot marts.')),
    duplicates: registry.register(new Counter('tidemark_duplicate_events_total', 'Events dropped as duplicates of an applied event_id.')),
    deadLetters: registry.register(new Counter('tidemark_dead_letters_total', 'Messages sent to dead_letter_events, by reason.')),
    lateEvents: registry.register(new Counter('tidemark_late_events_total', 'Events older than the watermark, recorded in late_events.')),
    alerts: registry.register(new Counter('tidemark_anomaly_alerts_total', 'Anomaly alerts raised, by severity.')),
    fenced: registry.register(new Counter('tidemark_checkpoint_fenced_total', 'Batches refused because another instance took a partition over.')),
    watermarkDelay: registry.register(new Gauge('tidemark_watermark_delay_seconds', 'Wall clock minus the event-time watermark.')),
    checkpointAge: registry.register(new Gauge('tidemark_checkpoint_timestamp_seconds', 'Unix time of the last committed checkpoint.')),
    batchDuration: registry.register(
      new Histogram('tidemark_batch_duration_seconds', 'Micro-batch duration (process + commit).', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    ),
  };
}
export type StreamMetrics = ReturnType<typeof streamMetrics>;

/** The curated archive writer's metrics. */
export function archiveMetrics(registry: Registry) {
  return {
    messagesIn: registry.register(new Counter('tidemark_archive_messages_in_total', 'Messages read by the archive writer.')),
    rowsArchived: registry.register(new Counter('tidemark_archive_rows_total', 'Events written to the lake.')),
    skipped: registry.register(new Counter('tidemark_archive_skipped_total', 'Messages not archived (invalid or far-future; the stream dead-letters them), by reason.')),
    objectsWritten: registry.register(new Counter('tidemark_archive_objects_total', 'Parquet objects written to the lake.')),
    orphansDeleted: registry.register(new Counter('tidemark_archive_orphans_deleted_total', 'Objects of uncommitted flushes deleted before re-archiving.')),
    fenced: registry.register(new Counter('tidemark_archive_fenced_total', 'Flushes refused because another writer took a partition over.')),
    watermark: registry.register(new Gauge('tidemark_archive_watermark_seconds', 'Unix time of the archive watermark.')),
    flushDuration: registry.register(
      new Histogram('tidemark_archive_flush_duration_seconds', 'Flush duration (encode, upload, commit).', [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
    ),
  };
}
export type ArchiveMetrics = ReturnType<typeof archiveMetrics>;
/** Operator-facing gauges and counters outside the stream loop: lag, checkpoint age, jobs, alert delivery. */
export function operatorMetrics(registry: Registry) {
  return {
    consumerLag: registry.register(new Gauge('tidemark_consumer_lag_messages', 'Messages the source holds that the stream has not committed yet.')),
    checkpointAge: registry.register(new Gauge('tidemark_checkpoint_age_seconds', 'Seconds since the newest stream checkpoint commit, per consumer.')),
    jobRuns: registry.register(new Counter('tidemark_job_runs_total', 'Finished job runs, by job and outcome.')),
    jobDuration: registry.register(
      new Histogram('tidemark_job_duration_seconds', 'Duration of finished job runs, by job.', [1, 5, 15, 60, 300, 900, 3600, 4 * 3600]),
    ),
    alertDeliveries: registry.register(new Counter('tidemark_alert_deliveries_total', 'Webhook deliveries, by kind and outcome.')),
    reconcileDrift: registry.register(
      new Gauge('tidemark_reconcile_drift_rows', 'Hot rows the latest reconcile of each mart changed, added or removed (its newest report).'),
    ),
    reconcileCompared: registry.register(new Gauge('tidemark_reconcile_rows_compared', 'Hot rows the latest reconcile of each mart compared (its newest report).')),
  };
}
export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
