// Configuration (SPEC §8, §9): the only module that reads process.env. Every key is validated at
// start-up so that a typo fails fast with a message naming the key, instead of surfacing hours
// later as a confusing runtime error. Values come from the environment, then an optional JSON
// file (TIDEMARK_CONFIG), then defaults; the result is deeply frozen so no caller can drift from
// what was validated.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MartSettings } from './marts/types.ts';

/** Every key the environment and the config file understand, in .env.example order. */
export const CONFIG_KEYS = [
  'TIDEMARK_HOME',
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'KAFKA_TOPIC',
  'KAFKA_GROUP_ID',
  'KAFKA_ARCHIVE_GROUP_ID',
  'KAFKA_CLIENT_ID',
  'KAFKA_SESSION_TIMEOUT',
  'KAFKA_GROUP_INSTANCE_ID',
  'KAFKA_OUTAGE_LIMIT',
  'LAKE_URL',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'REDIS_URL',
  'MART_TIMEZONE',
  'WATERMARK_DELAY',
  'MAX_FUTURE_SKEW',
  'IDLE_PARTITION_TIMEOUT',
  'TOP_DOCS_EVERY',
  'CLINICAL_TREND_EVERY',
  'ANOMALY_SPAN',
  'ANOMALY_WARNING',
  'ANOMALY_CRITICAL',
  'STREAM_BATCH_MAX_MESSAGES',
  'STREAM_BATCH_MAX_WAIT',
  'STREAM_BATCH_MIN_INTERVAL',
  'DEAD_LETTER_MAX_BYTES',
  'DB_OUTAGE_LIMIT',
  'HOT_RETENTION_DAYS',
  'ARCHIVE_FLUSH_ROWS',
  'ARCHIVE_FLUSH_BYTES',
  'ARCHIVE_FLUSH_INTERVAL',
  'LAKE_OUTAGE_LIMIT',
  'JOB_CONCURRENCY',
  'PORT',
  'LIVE_MAX_CONNECTIONS',
  'TIDEMARK_API_TOKEN',
  'ALERT_WEBHOOK_URL',
  'READY_MAX_CHECKPOINT_AGE',
  'READY_MAX_LAG',
  'GENERATOR_RATE',
  'GENERATOR_ANOMALY_EVERY',
  'DEMO_BACKFILL',
  'LOG_LEVEL',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Names the config file; read from the environment only. */
export const CONFIG_FILE_KEY = 'TIDEMARK_CONFIG';

/** STREAM_BATCH_MIN_INTERVAL unset, embedded database: the demo's 50 events/s in 4 batches a second, not 20. */
const EMBEDDED_BATCH_MIN_INTERVAL_MS = 250;

/** Defaults as operators would write them; keys absent here are unset by default. */
export const CONFIG_DEFAULTS: Readonly<Partial<Record<ConfigKey, string>>> = Object.freeze({
  TIDEMARK_HOME: '.tidemark',
  KAFKA_TOPIC: 'curated.events',
  KAFKA_GROUP_ID: 'tidemark-stream',
  KAFKA_ARCHIVE_GROUP_ID: 'tidemark-archive',
  KAFKA_CLIENT_ID: 'tidemark',
  KAFKA_SESSION_TIMEOUT: '10s',
  KAFKA_OUTAGE_LIMIT: '5m',
  // Unset LAKE_URL follows TIDEMARK_HOME; with the default home this is file://./.tidemark/lake.
  S3_REGION: 'us-east-1',
  S3_FORCE_PATH_STYLE: 'false',
  MART_TIMEZONE: 'UTC',
  WATERMARK_DELAY: '10m',
  MAX_FUTURE_SKEW: '5m',
  IDLE_PARTITION_TIMEOUT: '1m',
  TOP_DOCS_EVERY: '1m',
  CLINICAL_TREND_EVERY: '5m',
  ANOMALY_SPAN: '5m',
  ANOMALY_WARNING: '50',
  ANOMALY_CRITICAL: '100',
  STREAM_BATCH_MAX_MESSAGES: '5000',
  STREAM_BATCH_MAX_WAIT: '200ms',
  DEAD_LETTER_MAX_BYTES: '64KiB',
  DB_OUTAGE_LIMIT: '5m',
  HOT_RETENTION_DAYS: '7',
  ARCHIVE_FLUSH_ROWS: '100000',
  ARCHIVE_FLUSH_BYTES: '64MiB',
  ARCHIVE_FLUSH_INTERVAL: '60s',
  LAKE_OUTAGE_LIMIT: '5m',
  JOB_CONCURRENCY: '2',
  PORT: '8080',
  LIVE_MAX_CONNECTIONS: '100',
  READY_MAX_CHECKPOINT_AGE: '1m',
  READY_MAX_LAG: '100000',
  GENERATOR_RATE: '50',
  GENERATOR_ANOMALY_EVERY: '3m',
  DEMO_BACKFILL: '1h',
  LOG_LEVEL: 'info',
});

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LakeLocation =
  | {
      readonly kind: 'file';
      /** Absolute file:// URL of path. */
      readonly url: string;
      /** Absolute directory. */
      readonly path: string;
    }
  | {
      readonly kind: 's3';
      readonly url: string;
      readonly bucket: string;
      /** '' or ends with '/'; objects live under bucket/prefix. */
      readonly prefix: string;
    };

export interface TidemarkConfig {
  /** Absolute TIDEMARK_HOME: embedded database, default lake, local state. */
  readonly home: string;
  /** Absolute path of the TIDEMARK_CONFIG file, when one was read. */
  readonly configFile: string | null;
  readonly database: {
    /** null: embedded PGlite in embeddedDir. */
    readonly url: string | null;
    readonly embeddedDir: string;
  };
  readonly kafka: {
    /** Empty: no Kafka (the demo uses the generator). */
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly groupId: string;
    readonly archiveGroupId: string;
    readonly clientId: string;
    /** A member silent this long leaves the group and its partitions move (broker minimum 6s). */
    readonly sessionTimeoutMs: number;
    /** Static membership id (unset: dynamic membership). Unique per process of the group. */
    readonly groupInstanceId: string | null;
    /** How long the stream and the archive writer ride out unreachable brokers before they exit. */
    readonly outageLimitMs: number;
  };
  readonly lake: LakeLocation;
  readonly s3: {
    /** null: AWS's own endpoint for the region. */
    readonly endpoint: string | null;
    readonly region: string;
    /** Both null: the AWS default credential chain. */
    readonly accessKeyId: string | null;
    readonly secretAccessKey: string | null;
    readonly forcePathStyle: boolean;
  };
  readonly redis: {
    /** null: the in-process scheduler instead of BullMQ. */
    readonly url: string | null;
  };
  readonly marts: MartSettings;
  readonly stream: {
    readonly watermarkDelayMs: number;
    readonly maxFutureSkewMs: number;
    readonly idlePartitionTimeoutMs: number;
    readonly batchMaxMessages: number;
    readonly batchMaxWaitMs: number;
    /**
     * Least time from one micro-batch's start to the next while the stream is caught up (a batch
     * that is not full). Each batch is one transaction and a rewrite of the open snapshots, so a
     * trickle of events in ~20 batches a second costs ~20 times the work of one (Flink's buffer
     * timeout plays the same role). Default: 250 ms with the embedded database, 0 with a server.
     */
    readonly batchMinIntervalMs: number;
    /** Bytes of a dead letter's raw message that are stored (its first ones). */
    readonly deadLetterMaxBytes: number;
    /** How long the stream and the archive writer ride out an unreachable database before they exit. */
    readonly dbOutageLimitMs: number;
  };
  readonly retention: {
    readonly hotDays: number;
  };
  /** The curated archive writer flushes its buffer to the lake at whichever limit comes first. */
  readonly archive: {
    readonly flushRows: number;
    /** Bytes of buffered raw messages. */
    readonly flushBytes: number;
    readonly flushIntervalMs: number;
    /** How long the archive writer rides out an unreachable lake store before it exits. */
    readonly lakeOutageLimitMs: number;
  };
  readonly jobs: {
    /** Day steps running at once across every worker (BullMQ global concurrency). */
    readonly concurrency: number;
  };
  readonly server: {
    readonly port: number;
    /** null: state-changing endpoints are disabled. */
    readonly apiToken: string | null;
    /** Open /api/live (server-sent events) connections at most; more are refused with 503. */
    readonly liveMaxConnections: number;
  };
  readonly alerts: {
    readonly webhookUrl: string | null;
  };
  /** What /readyz tolerates before it answers 503. */
  readonly readiness: {
    readonly maxCheckpointAgeMs: number;
    readonly maxLag: number;
  };
  /** The built-in generator as the demo's live source. */
  readonly generator: {
    /** Average events per second of event time (the daily load curve varies around it). */
    readonly eventsPerSecond: number;
    /** An anomalous session starts this often in event time. */
    readonly anomalyEveryMs: number;
    /** How much history a fresh demo generates before going live. */
    readonly backfillMs: number;
  };
  readonly log: {
    readonly level: LogLevel;
  };
}

/** A configuration problem; `key` names the variable (or config-file key) at fault. */
export class ConfigError extends Error {
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

export interface LoadConfigOptions {
  /** Base for relative paths (TIDEMARK_CONFIG, TIDEMARK_HOME, relative file:// lake URLs). */
  readonly cwd?: string;
}

const DURATION_FORM = 'a whole number followed by ms, s, m, h or d, e.g. 90s or 10m';
const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const PG_INT_MAX = 2_147_483_647;

/** Duration text like 90s, 10m, 200ms to milliseconds. Throws RangeError on anything else. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new RangeError(`${JSON.stringify(text)} is not a duration; expected ${DURATION_FORM}`);
  return ms;
}

function durationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The configuration of this process, from process.env and the working directory. */
export function loadConfigFromProcess(): TidemarkConfig {
  return loadConfig(process.env, { cwd: process.cwd() });
}

/** Validates and resolves the configuration; throws ConfigError on the first bad key. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): TidemarkConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = readConfigFile(env, cwd);
  const read = new Reader(env, file);

  const homeText = read.text('TIDEMARK_HOME');
  const home = resolve(cwd, homeText.value);

  const databaseUrl = read.optional('DATABASE_URL');
  const batchMinInterval = read.optional('STREAM_BATCH_MIN_INTERVAL');
  if (databaseUrl !== undefined) {
    checkUrl(databaseUrl, ['postgres:', 'postgresql:'], 'is not a PostgreSQL URL', 'postgres://user:password@host:5432/database');
  }

  const brokers = read.optional('KAFKA_BROKERS');
  const redisUrl = read.optional('REDIS_URL');
  if (redisUrl !== undefined) checkUrl(redisUrl, ['redis:', 'rediss:'], 'is not a Redis URL', 'redis://host:6379 or rediss://host:6380');

  const s3Endpoint = read.optional('S3_ENDPOINT');
  if (s3Endpoint !== undefined) checkUrl(s3Endpoint, ['http:', 'https:'], 'is not an HTTP URL', 'http://minio:9000');
  const accessKeyId = read.optional('S3_ACCESS_KEY_ID');
  const secretAccessKey = read.optional('S3_SECRET_ACCESS_KEY');
  // One without the other would silently fall back to the default chain for half a pair.
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missingKey = accessKeyId === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
    const setKey = accessKeyId === undefined ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
    throw new ConfigError(missingKey, `${missingKey} is not set but ${setKey} is; expected both or neither`);
  }

  const webhook = read.optional('ALERT_WEBHOOK_URL');
  if (webhook !== undefined) checkUrl(webhook, ['http:', 'https:'], 'is not an HTTP URL', 'https://hooks.slack.com/services/…');

  const apiToken = read.optional('TIDEMARK_API_TOKEN');
  if (apiToken !== undefined && [...apiToken.value].length < 16) {
    throw bad(apiToken, `is too short (${[...apiToken.value].length} characters)`, 'at least 16 characters');
  }

  const anomalyWarning = integer(read.text('ANOMALY_WARNING'), 2, PG_INT_MAX);
  const anomalyCriticalValue = read.text('ANOMALY_CRITICAL');
  const anomalyCritical = integer(anomalyCriticalValue, 2, PG_INT_MAX);
  if (anomalyCritical < anomalyWarning) {
    throw bad(anomalyCriticalValue, `is below ANOMALY_WARNING (${anomalyWarning})`, `an integer ≥ ANOMALY_WARNING`);
  }

  const marts: MartSettings = {
    timeZone: timeZone(read.text('MART_TIMEZONE')),
    topDocsEveryMs: cadence(read.text('TOP_DOCS_EVERY')),
    clinicalTrendEveryMs: cadence(read.text('CLINICAL_TREND_EVERY')),
    anomalySpanMs: duration(read.text('ANOMALY_SPAN'), 1),
    anomalyWarning,
    anomalyCritical,
  };

  const groupInstance = read.optional('KAFKA_GROUP_INSTANCE_ID');
  const config: TidemarkConfig = {
    home,
    configFile: file?.path ?? null,
    database: { url: databaseUrl?.value ?? null, embeddedDir: join(home, 'db') },
    kafka: {
      brokers: brokers === undefined ? [] : brokerList(brokers),
      topic: topic(read.text('KAFKA_TOPIC')),
      groupId: identifier(read.text('KAFKA_GROUP_ID')),
      archiveGroupId: identifier(read.text('KAFKA_ARCHIVE_GROUP_ID')),
      clientId: identifier(read.text('KAFKA_CLIENT_ID')),
      sessionTimeoutMs: duration(read.text('KAFKA_SESSION_TIMEOUT'), 6000),
      groupInstanceId: groupInstance === undefined ? null : identifier(groupInstance),
      outageLimitMs: duration(read.text('KAFKA_OUTAGE_LIMIT'), 0),
    },
    lake: lakeLocation(read.optional('LAKE_URL'), home, cwd),
    s3: {
      endpoint: s3Endpoint?.value ?? null,
      region: region(read.text('S3_REGION')),
      accessKeyId: accessKeyId?.value ?? null,
      secretAccessKey: secretAccessKey?.value ?? null,
      forcePathStyle: boolean(read.text('S3_FORCE_PATH_STYLE')),
    },
    redis: { url: redisUrl?.value ?? null },
    marts,
    stream: {
      watermarkDelayMs: duration(read.text('WATERMARK_DELAY'), 0),
      maxFutureSkewMs: duration(read.text('MAX_FUTURE_SKEW'), 0),
      idlePartitionTimeoutMs: duration(read.text('IDLE_PARTITION_TIMEOUT'), 1),
      batchMaxMessages: integer(read.text('STREAM_BATCH_MAX_MESSAGES'), 1, 1_000_000),
      batchMaxWaitMs: duration(read.text('STREAM_BATCH_MAX_WAIT'), 0),
      batchMinIntervalMs: batchMinInterval === undefined ? (databaseUrl === undefined ? EMBEDDED_BATCH_MIN_INTERVAL_MS : 0) : duration(batchMinInterval, 0),
      deadLetterMaxBytes: byteSize(read.text('DEAD_LETTER_MAX_BYTES'), 0, 64 * 1024 ** 2),
      dbOutageLimitMs: duration(read.text('DB_OUTAGE_LIMIT'), 0),
    },
    retention: { hotDays: integer(read.text('HOT_RETENTION_DAYS'), 1, 36_500) },
    archive: {
      flushRows: integer(read.text('ARCHIVE_FLUSH_ROWS'), 1, 10_000_000),
      flushBytes: byteSize(read.text('ARCHIVE_FLUSH_BYTES'), 1024, 2 * 1024 ** 3),
      flushIntervalMs: duration(read.text('ARCHIVE_FLUSH_INTERVAL'), 1),
      lakeOutageLimitMs: duration(read.text('LAKE_OUTAGE_LIMIT'), 0),
    },
    jobs: { concurrency: integer(read.text('JOB_CONCURRENCY'), 1, 64) },
    server: {
      port: integer(read.text('PORT'), 0, 65_535),
      apiToken: apiToken?.value ?? null,
      liveMaxConnections: integer(read.text('LIVE_MAX_CONNECTIONS'), 1, 100_000),
    },
    alerts: { webhookUrl: webhook?.value ?? null },
    readiness: {
      maxCheckpointAgeMs: duration(read.text('READY_MAX_CHECKPOINT_AGE'), 1),
      maxLag: integer(read.text('READY_MAX_LAG'), 0, Number.MAX_SAFE_INTEGER),
    },
    generator: {
      eventsPerSecond: integer(read.text('GENERATOR_RATE'), 1, 100_000),
      anomalyEveryMs: duration(read.text('GENERATOR_ANOMALY_EVERY'), 1000),
      backfillMs: duration(read.text('DEMO_BACKFILL'), 0),
    },
    log: { level: logLevel(read.text('LOG_LEVEL')) },
  };
  return deepFreeze(config);
}

/**
 * A location written like LAKE_URL but given elsewhere (a command argument such as
 * `tidemark replay s3://bucket/prefix`). Throws ConfigError (key LAKE_URL) when it is not one.
 */
export function parseLakeUrl(url: string, cwd: string = process.cwd()): LakeLocation {
  return lakeLocation({ key: 'LAKE_URL', value: url.trim(), file: null }, cwd, cwd);
}

/** A copy safe to log or show on a status page: credentials replaced by '[redacted]'. */
export function redactConfig(config: TidemarkConfig): TidemarkConfig {
  const hidden = (value: string | null): string | null => (value === null ? null : '[redacted]');
  return deepFreeze({
    ...config,
    database: { ...config.database, url: config.database.url === null ? null : redactUrl(config.database.url) },
    s3: { ...config.s3, accessKeyId: hidden(config.s3.accessKeyId), secretAccessKey: hidden(config.s3.secretAccessKey) },
    redis: { url: config.redis.url === null ? null : redactUrl(config.redis.url) },
    server: { ...config.server, apiToken: hidden(config.server.apiToken) },
    alerts: { webhookUrl: config.alerts.webhookUrl === null ? null : redactUrl(config.alerts.webhookUrl) },
  });
}

// ---- sources ----

/** One resolved value and where it came from, for error messages. */
interface Setting {
  readonly key: ConfigKey;
  readonly value: string;
  /** The config file's path, or null for the environment (or a default). */
  readonly file: string | null;
}

interface ConfigFile {
  readonly path: string;
  readonly values: ReadonlyMap<string, string>;
}

class Reader {
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly file: ConfigFile | null;

  constructor(env: Readonly<Record<string, string | undefined>>, file: ConfigFile | null) {
    this.env = env;
    this.file = file;
  }

  /** Environment, then file; empty and blank values count as unset (`KEY=` in an env file). */
  optional(key: ConfigKey): Setting | undefined {
    const fromEnv = this.env[key]?.trim();
    if (fromEnv !== undefined && fromEnv !== '') return { key, value: fromEnv, file: null };
    const fromFile = this.file?.values.get(key);
    if (fromFile !== undefined && this.file !== null) return { key, value: fromFile, file: this.file.path };
    return undefined;
  }

  /** Like optional, falling back to the key's default. */
  text(key: ConfigKey): Setting {
    const setting = this.optional(key);
    if (setting !== undefined) return setting;
    const fallback = CONFIG_DEFAULTS[key];
    if (fallback === undefined) throw new Error(`config key ${key} has no default`);
    return { key, value: fallback, file: null };
  }
}

function readConfigFile(env: Readonly<Record<string, string | undefined>>, cwd: string): ConfigFile | null {
  const given = env[CONFIG_FILE_KEY]?.trim();
  if (given === undefined || given === '') return null;
  const shown = `${CONFIG_FILE_KEY}=${JSON.stringify(given)}`;
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(CONFIG_FILE_KEY, `${shown} cannot be read (${code}: ${path}); expected a readable JSON file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = clip((error as Error).message.replace(/\s+/g, ' '), 100);
    throw new ConfigError(CONFIG_FILE_KEY, `${shown} is not valid JSON (${reason}); expected a JSON object of settings`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(CONFIG_FILE_KEY, `${shown} does not hold a JSON object; expected {"KEY": "value", …}`);
  }

  const known: ReadonlySet<string> = new Set(CONFIG_KEYS);
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) {
      const hint = closestKey(key);
      throw new ConfigError(
        key,
        `${path}: unknown key ${JSON.stringify(key)}; expected one of the environment variable names` +
          (hint === undefined ? '' : `, e.g. ${hint}`),
      );
    }
    let text: string;
    if (typeof value === 'string') text = value.trim();
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else if (typeof value === 'boolean') text = String(value);
    else {
      const type = value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
      throw new ConfigError(key, `${key} in ${path} is ${type}; expected a string or a number`);
    }
    // Blank means unset here too, so that a template file can list every key.
    if (text !== '') values.set(key, text);
  }
  return { path, values };
}

function closestKey(key: string): string | undefined {
  const upper = key.toUpperCase();
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of CONFIG_KEYS) {
    const distance = editDistance(upper, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

// ---- error messages ----

// Values that are credentials, or URLs that may carry them (passwords in DATABASE_URL and
// REDIS_URL, the secret path of a Slack webhook), never appear in messages.
const HIDDEN_KEYS: ReadonlySet<string> = new Set(['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'TIDEMARK_API_TOKEN']);
const CREDENTIAL_URL_KEYS: ReadonlySet<string> = new Set(['DATABASE_URL', 'REDIS_URL', 'ALERT_WEBHOOK_URL', 'S3_ENDPOINT']);

function bad(setting: Setting, problem: string, expected: string): ConfigError {
  const where = setting.file === null ? '' : ` (from ${setting.file})`;
  return new ConfigError(setting.key, `${shownValue(setting)}${where} ${problem}; expected ${expected}`);
}

function shownValue(setting: Setting): string {
  if (HIDDEN_KEYS.has(setting.key)) return `${setting.key} (value hidden)`;
  if (CREDENTIAL_URL_KEYS.has(setting.key)) return `${setting.key}=${JSON.stringify(redactUrl(setting.value))}`;
  return `${setting.key}=${JSON.stringify(clip(setting.value, 80))}`;
}

/** scheme://host/… — enough to spot a wrong scheme or host, nothing that could be a secret. */
function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(value);
    return scheme === null ? '…' : `${scheme[0]}…`;
  }
  if (url.host === '') return `${url.protocol}…`;
  const userinfo = url.username !== '' || url.password !== '' ? '…@' : '';
  const hasMore = (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '';
  return `${url.protocol}//${userinfo}${url.host}${hasMore ? '/…' : ''}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

// ---- validators ----

function checkUrl(setting: Setting, schemes: readonly string[], problem: string, example: string): void {
  let url: URL | undefined;
  try {
    url = new URL(setting.value);
  } catch {
    url = undefined;
  }
  // URL accepts 'postgres:db' as scheme plus path; every service URL here needs the '//'.
  if (url === undefined || !schemes.includes(url.protocol) || !/^[a-z]+:\/\//i.test(setting.value)) {
    throw bad(setting, problem, example);
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '') throw bad(setting, problem, example);
}

function integer(setting: Setting, min: number, max: number): number {
  const expected = `an integer from ${min} to ${max}`;
  if (!/^\d+$/.test(setting.value)) throw bad(setting, 'is not a whole number', expected);
  const value = Number(setting.value);
  if (value < min || value > max) throw bad(setting, 'is out of range', expected);
  return value;
}

function duration(setting: Setting, minMs: number): number {
  const ms = durationMs(setting.value);
  if (ms === undefined) throw bad(setting, 'is not a duration', DURATION_FORM);
  if (ms < minMs) throw bad(setting, 'must be positive', `${DURATION_FORM}, above zero`);
  return ms;
}

const BYTE_UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** A size like 64MiB, 512KiB or 1048576 (bytes). */
function byteSize(setting: Setting, min: number, max: number): number {
  const expected = `a whole number of bytes, optionally with B, KiB, MiB or GiB (e.g. 64MiB), from ${min} to ${max} bytes`;
  const match = /^(\d+)(B|KiB|MiB|GiB)?$/.exec(setting.value);
  if (match === null) throw bad(setting, 'is not a size', expected);
  const bytes = Number(match[1]) * (BYTE_UNITS[match[2] ?? 'B'] as number);
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) throw bad(setting, 'is out of range', expected);
  return bytes;
}

/** Snapshot cadences: whole minutes that tile a day, so snapshots align to every midnight. */
function cadence(setting: Setting): number {
  const ms = duration(setting, 1);
  if (ms % MINUTE_MS !== 0 || DAY_MS % ms !== 0) {
    throw bad(setting, 'does not divide a day into whole minutes', 'a duration such as 1m, 5m, 15m, 1h or 1d');
  }
  return ms;
}

function boolean(setting: Setting): boolean {
  const value = setting.value.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw bad(setting, 'is not a boolean', 'true, false, 1 or 0');
}

function logLevel(setting: Setting): LogLevel {
  const value = setting.value.toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === value);
  if (level === undefined) throw bad(setting, 'is not a log level', LOG_LEVELS.join(', '));
  return level;
}

function timeZone(setting: Setting): string {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: setting.value }).resolvedOptions().timeZone;
  } catch {
    throw bad(setting, 'is not a known time zone', 'an IANA name such as UTC, Europe/Berlin or Asia/Seoul');
  }
  // Intl accepts fixed offsets like +05:00, which PostgreSQL reads as POSIX zones with the sign
  // inverted; an IANA name means the same thing on both sides.
  if (resolved.startsWith('+') || resolved.startsWith('-')) {
    throw bad(setting, 'is an offset, not a time zone', 'an IANA name such as UTC, Europe/Berlin or Asia/Seoul');
  }
  return resolved;
}

const HOST_PATTERN = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])$/;

function brokerList(setting: Setting): string[] {
  const expected = 'a comma-separated list of host:port, e.g. kafka-1:9092,kafka-2:9092';
  // Blank entries (a trailing comma) are harmless; anything else must be host:port.
  const entries = setting.value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) throw bad(setting, 'names no broker', expected);
  for (const entry of entries) {
    const colon = entry.lastIndexOf(':');
    const host = colon === -1 ? '' : entry.slice(0, colon);
    const port = colon === -1 ? '' : entry.slice(colon + 1);
    if (!HOST_PATTERN.test(host) || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
      throw bad(setting, `has an entry ${JSON.stringify(entry)} that is not host:port`, expected);
    }
  }
  return entries;
}

function topic(setting: Setting): string {
  const value = setting.value;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(value) || value === '.' || value === '..') {
    throw bad(setting, 'is not a valid Kafka topic', "1 to 249 letters, digits, '.', '_' or '-'");
  }
  return value;
}

function identifier(setting: Setting): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (setting.value.length > 255 || /[\u0000-\u001f\u007f]/.test(setting.value)) {
    throw bad(setting, 'is not a usable identifier', 'at most 255 printable characters');
  }
  return setting.value;
}

function region(setting: Setting): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(setting.value)) {
    throw bad(setting, 'is not a region name', 'letters, digits and dashes, e.g. us-east-1');
  }
  return setting.value;
}

const BUCKET_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$/;

function lakeLocation(setting: Setting | undefined, home: string, cwd: string): LakeLocation {
  if (setting === undefined) {
    const path = join(home, 'lake');
    return { kind: 'file', url: pathToFileURL(path).href, path };
  }
  const value = setting.value;
  const expected = 's3://bucket/prefix or file:///absolute/path or file://./relative/path';
  if (value.startsWith('s3://')) {
    const rest = value.slice('s3://'.length);
    if (rest.includes('?') || rest.includes('#')) throw bad(setting, 'has a query or fragment', expected);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    if (!BUCKET_PATTERN.test(bucket)) {
      throw bad(setting, `names an invalid bucket ${JSON.stringify(bucket)}`, `${expected}, with a valid S3 bucket name`);
    }
    const trimmed = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    return { kind: 's3', url: value, bucket, prefix: trimmed === '' ? '' : `${trimmed}/` };
  }
  if (value.startsWith('file://')) {
    const rest = value.slice('file://'.length);
    let path: string;
    if (rest.startsWith('/')) {
      try {
        path = fileURLToPath(value);
      } catch {
        throw bad(setting, 'is not a valid file URL', expected);
      }
    } else if (rest.startsWith('.')) {
      // Not standard URL syntax, but the documented way to say "relative to the working directory".
      path = resolve(cwd, rest);
    } else {
      throw bad(setting, 'is neither absolute (file:///…) nor relative (file://./…)', expected);
    }
    if (!isAbsolute(path)) throw bad(setting, 'is not a valid file URL', expected);
    // Normalised, so that logs and status show one unambiguous location whatever the cwd.
    return { kind: 'file', url: pathToFileURL(path).href, path };
  }
  throw bad(setting, 'is not an s3:// or file:// URL', expected);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
