// Operator commands: `status` (one screen on the stream and the daily jobs), `generate` (test
// traffic to Kafka or a file) and `console` (console, API, metrics and alert webhook on their own).
import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { TidemarkConfig } from '../../config.ts';
import { loadConfigFromProcess, parseDuration } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { generateClicks } from '../../io/generator/click-generator.ts';
import { checkOutputPath } from '../../io/file/input-file.ts';
import type { GeneratedClick } from '../../io/generator/click-generator.ts';
import type { ArchiveRow } from '../../io/lake/parquet-events.ts';
import { encodeEventsToParquet } from '../../io/lake/parquet-events.ts';
import { createLogger } from '../../io/log.ts';
import { Registry, operatorMetrics } from '../../io/metrics.ts';
import { operatorStatus } from '../../io/queries/operator-status.ts';
import type { OperatorStatus } from '../../io/queries/operator-status.ts';
import { parseRawMessage } from '../../marts/event-contract.ts';
import { runComponents } from '../app/components.ts';
import { demoGeneratorProducer } from '../app/demo-feed.ts';
import { streamLag } from '../app/consumer-lag.ts';
import { openConfiguredDatabase } from '../app/open-database.ts';
import { EmbeddedDatabaseBusyError } from '../../io/db/pglite-database.ts';
import { operatorSurface } from '../app/operator-surface.ts';
import { QUEUE_BOARD_PREFIX, consoleJobs } from '../app/console-jobs.ts';
import { DEFAULT_QUEUE_NAME } from '../../jobs/job-service.ts';
import { StartupError, UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';

/** Kafka lag of the stream's consumer group: log end offsets minus committed checkpoint offsets. */
async function kafkaLag(config: TidemarkConfig, db: Database): Promise<number | null> {
  if (config.kafka.brokers.length === 0) return null;
  try {
    const { topicEndOffsets } = await import('../app/kafka-sources.ts');
    return await streamLag(db, config.kafka.groupId, `kafka:${config.kafka.topic}`, topicEndOffsets(config));
  } catch {
    return null;
  }
}

function alertsLine(pending: number, webhook: boolean | null): string {
  if (webhook === false) return `${pending} alerts in the outbox (no ALERT_WEBHOOK_URL here: nothing delivers them)`;
  return `${pending} alerts awaiting delivery`;
}

async function statusFromRunningProcess(port: number, why: string): Promise<OperatorStatus> {
  const url = `http://127.0.0.1:${port}/api/status`;
  try {
    // A demo catching up answers slowly (one embedded database, busy): give it time.
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return (await response.json()) as OperatorStatus;
  } catch (error) {
    throw new StartupError(`${why}; asking it at ${url} failed too (${(error as Error).message}): is PORT the demo's?`);
  }
}

/** `webhook`: whether ALERT_WEBHOOK_URL is set here (null: not known, another process's status). */
function formatStatus(s: OperatorStatus, webhook: boolean | null): string {
  const sec = (v: number | null): string => (v === null ? '–' : v < 120 ? `${v.toFixed(1)} s` : v < 7200 ? `${(v / 60).toFixed(1)} min` : `${(v / 3600).toFixed(1)} h`);
  const lines = [`tidemark status at ${s.now}`, '', 'Stream consumers'];
  if (s.consumers.length === 0) lines.push('  (none has committed a checkpoint yet)');
  for (const c of s.consumers) {
    lines.push(
      `  ${c.consumer}: watermark ${c.watermark ?? '+∞ (source ended)'} (delay ${sec(c.watermark_delay_sec)}), ` +
        `last checkpoint ${c.last_checkpoint ?? '–'} (${sec(c.checkpoint_age_sec)} ago), ${c.partitions} partition(s), ${c.committed_offsets} offsets committed`,
    );
  }
  lines.push(`  lag: ${s.lag === null ? 'unknown (no Kafka configured; see /metrics of the stream process)' : `${s.lag} messages`}`);
  const reasons = s.dead_letter_reasons_1h.map((r) => `${r.reason} ${r.count}`).join(', ');
  lines.push(`  last hour: ${s.dead_letters_1h} dead letters${reasons === '' ? '' : ` (${reasons})`}, ${s.late_events_1h} late events; ${alertsLine(s.alerts_pending, webhook)}`, '', 'Archive writers');
  if (s.archive.length === 0) lines.push('  (none has flushed yet)');
  for (const a of s.archive) {
    lines.push(`  ${a.consumer}: watermark ${a.watermark ?? '+∞ (source ended)'} (delay ${sec(a.watermark_delay_sec)}), last flush ${a.last_flush ?? '–'} (${sec(a.last_flush_age_sec)} ago), ${a.committed_offsets} offsets archived`);
  }
  lines.push('', 'Job runs (newest first)');
  if (s.last_runs.length === 0) lines.push('  (none)');
  for (const r of s.last_runs) {
    const range = r.range_from === null ? '' : r.range_to === null || r.range_to === r.range_from ? ` ${r.range_from}` : ` ${r.range_from} … ${r.range_to}`;
    lines.push(`  #${r.id} ${r.job}${r.step === null ? '' : `/${r.step}`}${range}: ${r.outcome}${r.duration_sec === null ? '' : ` in ${sec(r.duration_sec)}`} (started ${r.started_at} by ${r.requested_by})`);
  }
  lines.push('', 'Reconcile drift (latest per mart)');
  if (s.drift.length === 0) lines.push('  (no reconcile yet)');
  for (const d of s.drift) {
    lines.push(`  ${d.mart} ${d.event_date}: ${d.rows_changed} changed, ${d.rows_added} added, ${d.rows_removed} removed of ${d.rows_compared}; max |diff| ${d.max_abs_diff}; ${d.late_events} late events`);
  }
  return `${lines.join('\n')}\n`;
}

function positiveInt(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value <= 0 || !Number.isSafeInteger(value)) throw new UsageError(`${flag} must be a positive whole number`);
  return value;
}

function takeClicks(count: number, options: Parameters<typeof generateClicks>[0]): GeneratedClick[] {
  const clicks: GeneratedClick[] = [];
  for (const click of generateClicks(options)) {
    clicks.push(click);
    if (clicks.length >= count) break;
  }
  return clicks;
}

/** `generate --kafka --follow`: the demo's live producer alone, until SIGINT/SIGTERM. */
async function followGenerator(config: TidemarkConfig): Promise<number> {
  const log = createLogger(config.log.level, { component: 'generate' });
  const db = await openConfiguredDatabase(config);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runComponents([(await demoGeneratorProducer(db, config)).component], stop.signal, log);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db.close();
  }
}

export const OPERATOR_COMMANDS: Record<string, Command> = {
  status: {
    summary: 'One screen: watermark, lag, checkpoint age, last job runs, reconcile drift',
    usage: `tidemark status [--json]

Reads the database (DATABASE_URL or the embedded one under TIDEMARK_HOME) and prints each stream
consumer's watermark and last checkpoint, the Kafka lag of KAFKA_GROUP_ID (when KAFKA_BROKERS is
set), dead letters and late events of the last hour, the newest job runs and the latest
reconcile drift per mart. While a demo holds the embedded database, it asks that demo over HTTP
(GET http://127.0.0.1:PORT/api/status) instead.
  --json   print the same as JSON (the body of GET /api/status)`,
    run: async (args) => {
      const { values } = parseFlags(args, { json: { type: 'boolean' } });
      const config = loadConfigFromProcess();
      let db: Database;
      try {
        db = await openConfiguredDatabase(config);
      } catch (error) {
        // A running demo holds the embedded database: ask it instead (its GET /api/status on PORT).
        if (!(error instanceof StartupError && error.cause instanceof EmbeddedDatabaseBusyError)) throw error;
        const status = await statusFromRunningProcess(config.server.port, error.message);
        process.stdout.write(values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, null));
        return 0;
      }
      try {
        const status = await operatorStatus(db, { nowMs: Date.now(), lag: await kafkaLag(config, db) });
        process.stdout.write(values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, config.alerts.webhookUrl !== null));
      } finally {
        await db.close();
      }
      return 0;
    },
  },
  generate: {
    summary: 'Write generated click events to Kafka, a JSON Lines file or a Parquet file',
    usage: `tidemark generate (--kafka | --out FILE.jsonl | --out FILE.parquet) [options]

Generates TripClick-like click events (Zipf-popular documents, sessions, a daily load curve, an
anomalous session every --anomaly-every, and a trickle of late, duplicate and malformed messages)
  --kafka              produce to KAFKA_TOPIC on KAFKA_BROKERS, keyed by session_id
  --partitions N       with --kafka: create the topic with N partitions first (or check it has N)
  --out FILE           write JSON Lines (one raw message per line), or Parquet in the archive's
                       schema when FILE ends in .parquet (malformed messages are left out there)
  --events N           how many messages (default 10000)
  --rate R             events per second of event time (default GENERATOR_RATE)
  --start ISO          event time of the first event (default: so that the last one is now)
  --seed S             generator seed (default 1); the same seed gives the same events
  --anomaly-every DUR  one anomalous session per DUR of event time (default GENERATOR_ANOMALY_EVERY)
  --clean              no late, duplicate or malformed messages
  --follow             with --kafka: live demo traffic instead (GENERATOR_RATE events/s in real time,
                       after DEMO_BACKFILL of history) until SIGINT/SIGTERM, exactly as \`tidemark demo\`
                       produces it; a restart resumes the sequence (state in DATABASE_URL)`,
    run: async (args) => {
      const { values } = parseFlags(args, {
        kafka: { type: 'boolean' },
        partitions: { type: 'string' },
        out: { type: 'string' },
        events: { type: 'string' },
        rate: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        'anomaly-every': { type: 'string' },
        clean: { type: 'boolean' },
        follow: { type: 'boolean' },
      });
      const flag = (name: string): string | undefined => {
        const value = (values as Record<string, unknown>)[name];
        return typeof value === 'string' ? value : undefined;
      };
      const outFile = flag('out');
      if ((values.kafka === true) === (outFile !== undefined)) throw new UsageError('give exactly one of --kafka and --out FILE');
      const config = loadConfigFromProcess();
      if (values.follow === true) {
        if (values.kafka !== true) throw new UsageError('--follow needs --kafka');
        if (config.kafka.brokers.length === 0) throw new UsageError('--kafka needs KAFKA_BROKERS');
        return followGenerator(config);
      }
      const count = positiveInt(flag('events'), 10_000, '--events');
      const rate = positiveInt(flag('rate'), config.generator.eventsPerSecond, '--rate');
      const seed = positiveInt(flag('seed'), 1, '--seed');
      let anomalyEveryMs = config.generator.anomalyEveryMs;
      const anomalyEvery = flag('anomaly-every');
      if (anomalyEvery !== undefined) {
        try {
          anomalyEveryMs = parseDuration(anomalyEvery);
        } catch (error) {
          throw new UsageError(`--anomaly-every: ${(error as Error).message}`);
        }
      }
      let startMs = Math.round(Date.now() - (count / rate) * 1000);
      const start = flag('start');
      if (start !== undefined) {
        startMs = Date.parse(start);
        if (!Number.isFinite(startMs)) throw new UsageError('--start must be an ISO-8601 instant, e.g. 2026-01-31T00:00:00Z');
      }
      const clean = values.clean === true;
      const clicks = takeClicks(count, {
        startMs,
        eventsPerSecond: rate,
        seed,
        anomalyEveryMs,
        loadCurve: true,
        ...(clean ? {} : { lateEvery: 997, duplicateEvery: 499, malformedEvery: 1999 }),
      });

      if (values.kafka === true) {
        if (config.kafka.brokers.length === 0) throw new UsageError('--kafka needs KAFKA_BROKERS');
        try {
          const partitions = flag('partitions');
          const { createTopic, produceLines } = await import('../../io/kafka/kafka-admin.ts');
          if (partitions !== undefined) await createTopic(config.kafka.brokers, config.kafka.topic, positiveInt(partitions, 1, '--partitions'));
          await produceLines(config.kafka.brokers, config.kafka.topic, clicks.map((c) => ({ key: c.key, value: c.value })));
        } catch (error) {
          if (error instanceof UsageError) throw error;
          throw new StartupError(`KAFKA_BROKERS: producing to ${config.kafka.topic} failed: ${(error as Error).message}`);
        }
        process.stdout.write(`produced ${clicks.length} messages to ${config.kafka.topic}\n`);
        return 0;
      }
      const out = outFile!;
      await checkOutputPath(out);
      if (out.endsWith('.parquet')) {
        const rows: ArchiveRow[] = [];
        clicks.forEach((c, offset) => {
          const parsed = parseRawMessage(c.value, { nowMs: Number.MAX_SAFE_INTEGER, maxFutureSkewMs: 0 });
          if (parsed.ok) rows.push({ ...parsed.event, partition: 0, offset: String(offset) });
        });
        writeFileSync(out, encodeEventsToParquet(rows));
        process.stdout.write(`wrote ${rows.length} events to ${out}\n`);
        return 0;
      }
      const file = createWriteStream(out, { encoding: 'utf8' });
      for (const c of clicks) if (!file.write(`${c.value}\n`)) await once(file, 'drain');
      file.end();
      await once(file, 'finish');
      process.stdout.write(`wrote ${clicks.length} messages to ${out}\n`);
      return 0;
    },
  },
  console: {
    summary: 'Console, JSON API, /metrics, alert webhook, job triggers and bull-board, without a stream (until SIGINT)',
    usage: `tidemark console [--queue NAME]

Serves the console, the JSON API, /healthz, /readyz and /metrics on PORT from the database, and
delivers the anomaly alert outbox to ALERT_WEBHOOK_URL when set. Use it beside \`tidemark stream\`
processes (the docker-compose "console" service). SIGINT or SIGTERM exits 0.
With REDIS_URL and TIDEMARK_API_TOKEN, POST /api/backfill and /api/reconcile (Bearer token)
enqueue runs on the BullMQ queue NAME (default ${DEFAULT_QUEUE_NAME}) for \`tidemark worker\`
processes, and bull-board shows that queue under ${QUEUE_BOARD_PREFIX} (the token as Bearer, or as
the Basic-auth password in a browser). Without REDIS_URL those endpoints answer 503.
  --queue NAME   the BullMQ queue (as given to \`tidemark worker --queue\`)`,
    run: async (args) => {
      const { values } = parseFlags(args, { queue: { type: 'string' } });
      const queueName = values.queue === undefined ? DEFAULT_QUEUE_NAME : String(values.queue);
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(queueName)) throw new UsageError('--queue takes letters, digits, - and _');
      const config = loadConfigFromProcess();
      const log = createLogger(config.log.level, { component: 'console' });
      const db = await openConfiguredDatabase(config);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const queue = await consoleJobs(config, db, queueName, createLogger(config.log.level, { component: 'jobs' }));
      try {
        const registry = new Registry();
        const components = operatorSurface({
          config,
          db,
          registry,
          metrics: operatorMetrics(registry),
          log,
          lag: () => kafkaLag(config, db),
          ...(queue.jobs === undefined ? {} : { jobs: queue.jobs }),
          ...(queue.jobsUnavailable === undefined ? {} : { jobsUnavailable: queue.jobsUnavailable }),
          mounts: queue.mounts,
        });
        await runComponents(components, stop.signal, log);
        return 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await queue.close();
        await db.close();
      }
    },
  },
};
