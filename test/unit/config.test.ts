// Configuration loading: defaults, every validation, file/env precedence, secrecy, immutability.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  ConfigError,
  loadConfig,
  parseDuration,
  redactConfig,
} from '../../src/config.ts';
import type { TidemarkConfig } from '../../src/config.ts';

const CWD = mkdtempSync(join(tmpdir(), 'tidemark-config-'));
afterAll(() => rmSync(CWD, { recursive: true, force: true }));

type Env = Record<string, string | undefined>;

function load(env: Env = {}): TidemarkConfig {
  return loadConfig(env, { cwd: CWD });
}

/** The ConfigError that loading env throws. */
function errorOf(env: Env): ConfigError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

let fileCounter = 0;
function writeConfigFile(content: unknown): string {
  fileCounter++;
  const name = `config-${fileCounter}.json`;
  writeFileSync(join(CWD, name), typeof content === 'string' ? content : JSON.stringify(content));
  return name;
}

describe('parseDuration', () => {
  const valid: Array<[string, number]> = [
    ['0ms', 0],
    ['200ms', 200],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['007s', 7000],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${text} as ${ms} ms`, () => expect(parseDuration(text)).toBe(ms));
  }

  const invalid = ['', 'ten', '10', '1.5m', '-1m', '+1m', '10 m', ' 10m', '10M', '1h30m', '10min', 'm', '99999999999999999d'];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseDuration(text)).toThrow(RangeError);
      expect(() => parseDuration(text)).toThrow(
        `${JSON.stringify(text)} is not a duration; expected a whole number followed by ms, s, m, h or d, e.g. 90s or 10m`,
      );
    });
  }
});

describe('loadConfig: defaults', () => {
  it('produces the documented defaults from an empty environment', () => {
    const home = resolve(CWD, '.tidemark');
    expect(load()).toEqual({
      home,
      configFile: null,
      database: { url: null, embeddedDir: join(home, 'db') },
      kafka: {
        brokers: [],
        topic: 'curated.events',
        groupId: 'tidemark-stream',
        archiveGroupId: 'tidemark-archive',
        clientId: 'tidemark',
        sessionTimeoutMs: 10_000,
        groupInstanceId: null,
        outageLimitMs: 300_000,
      },
      lake: { kind: 'file', url: `file://${join(home, 'lake')}`, path: join(home, 'lake') },
      s3: { endpoint: null, region: 'us-east-1', accessKeyId: null, secretAccessKey: null, forcePathStyle: false },
      redis: { url: null },
      marts: {
        timeZone: 'UTC',
        topDocsEveryMs: 60_000,
        clinicalTrendEveryMs: 300_000,
        anomalySpanMs: 300_000,
        anomalyWarning: 50,
        anomalyCritical: 100,
      },
      stream: {
        watermarkDelayMs: 600_000,
        maxFutureSkewMs: 300_000,
        idlePartitionTimeoutMs: 60_000,
        batchMaxMessages: 5000,
        batchMaxWaitMs: 200,
        batchMinIntervalMs: 250,
        deadLetterMaxBytes: 65_536,
        dbOutageLimitMs: 300_000,
      },
      retention: { hotDays: 7 },
      archive: { flushRows: 100_000, flushBytes: 64 * 1024 * 1024, flushIntervalMs: 60_000, lakeOutageLimitMs: 300_000 },
      jobs: { concurrency: 2 },
      server: { port: 8080, apiToken: null, liveMaxConnections: 100 },
      alerts: { webhookUrl: null },
      readiness: { maxCheckpointAgeMs: 60_000, maxLag: 100_000 },
      generator: { eventsPerSecond: 50, anomalyEveryMs: 180_000, backfillMs: 3_600_000 },
      log: { level: 'info' },
    });
  });

  it('treats empty and blank values as unset', () => {
    const blank: Env = {};
    for (const key of CONFIG_KEYS) blank[key] = key.length % 2 === 0 ? '' : '   ';
    expect(load(blank)).toEqual(load());
  });

  it('ignores unrelated environment variables', () => {
    expect(load({ HOME: '/root', PATH: '/bin', TIDEMARK_UNKNOWN: 'x' })).toEqual(load());
  });

  it('uses process.cwd() when no cwd is given', () => {
    expect(loadConfig({}).home).toBe(resolve(process.cwd(), '.tidemark'));
  });
});

describe('loadConfig: frozen result', () => {
  it('freezes every level', () => {
    const config = load({ KAFKA_BROKERS: 'a:9092' });
    expect(Object.isFrozen(config)).toBe(true);
    for (const value of Object.values(config)) {
      if (typeof value === 'object' && value !== null) expect(Object.isFrozen(value)).toBe(true);
    }
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
    expect(() => {
      (config.kafka.brokers as string[]).push('b:9092');
    }).toThrow(TypeError);
    expect(() => {
      (config.marts as { anomalyWarning: number }).anomalyWarning = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config as { home: string }).home = '/elsewhere';
    }).toThrow(TypeError);
  });

  it('does not share state between calls', () => {
    expect(load()).not.toBe(load());
  });
});

describe('.env.example', () => {
  const lines = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').split('\n');
  const entries = lines.filter((line) => /^[A-Z0-9_]+=/.test(line)).map((line) => {
    const eq = line.indexOf('=');
    return [line.slice(0, eq), line.slice(eq + 1)] as const;
  });

  it('lists every key exactly once, each after a comment line', () => {
    const keys = entries.map(([key]) => key);
    expect([...keys].sort()).toEqual([...CONFIG_KEYS, 'TIDEMARK_CONFIG'].sort());
    for (let i = 0; i < lines.length; i++) {
      if (/^[A-Z0-9_]+=/.test(lines[i] as string)) expect(lines[i - 1]).toMatch(/^# \S/);
    }
  });

  it('shows the defaults (empty for unset keys)', () => {
    for (const [key, value] of entries) {
      if (key === 'LAKE_URL') expect(value).toBe('file://./.tidemark/lake');
      else if (key === 'TIDEMARK_CONFIG') expect(value).toBe('');
      else expect(value).toBe(CONFIG_DEFAULTS[key as keyof typeof CONFIG_DEFAULTS] ?? '');
    }
  });

  it('loads to exactly the default configuration', () => {
    expect(load(Object.fromEntries(entries))).toEqual(load());
  });
});

describe('loadConfig: values', () => {
  it('reads a full production environment', () => {
    const config = load({
      TIDEMARK_HOME: '/var/lib/tidemark',
      DATABASE_URL: 'postgres://tidemark:s3cret@db:5432/marts',
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,',
      KAFKA_TOPIC: 'curated.events.v2',
      KAFKA_GROUP_ID: 'g1',
      KAFKA_ARCHIVE_GROUP_ID: 'g2',
      KAFKA_CLIENT_ID: 'tm-1',
      LAKE_URL: 's3://curated-lake/prod/events/',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-central-1',
      S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      S3_SECRET_ACCESS_KEY: 'secret-key',
      S3_FORCE_PATH_STYLE: 'TRUE',
      REDIS_URL: 'rediss://:pw@redis:6380/0',
      MART_TIMEZONE: 'asia/seoul',
      WATERMARK_DELAY: '90s',
      MAX_FUTURE_SKEW: '0ms',
      IDLE_PARTITION_TIMEOUT: '30s',
      TOP_DOCS_EVERY: '5m',
      CLINICAL_TREND_EVERY: '1h',
      ANOMALY_SPAN: '10m',
      ANOMALY_WARNING: '2',
      ANOMALY_CRITICAL: '2',
      STREAM_BATCH_MAX_MESSAGES: '100',
      STREAM_BATCH_MAX_WAIT: '1s',
      STREAM_BATCH_MIN_INTERVAL: '50ms',
      HOT_RETENTION_DAYS: '30',
      ARCHIVE_FLUSH_ROWS: '5000',
      ARCHIVE_FLUSH_BYTES: '512KiB',
      ARCHIVE_FLUSH_INTERVAL: '5s',
      PORT: '0',
      TIDEMARK_API_TOKEN: '0123456789abcdef',
      ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
      READY_MAX_CHECKPOINT_AGE: '2m',
      READY_MAX_LAG: '500',
      GENERATOR_RATE: '400',
      GENERATOR_ANOMALY_EVERY: '30s',
      DEMO_BACKFILL: '0s',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).toEqual({
      home: '/var/lib/tidemark',
      configFile: null,
      database: { url: 'postgres://tidemark:s3cret@db:5432/marts', embeddedDir: '/var/lib/tidemark/db' },
      kafka: { brokers: ['kafka-1:9092', 'kafka-2:9092'], topic: 'curated.events.v2', groupId: 'g1', archiveGroupId: 'g2', clientId: 'tm-1', sessionTimeoutMs: 10_000, groupInstanceId: null, outageLimitMs: 300_000 },
      lake: { kind: 's3', url: 's3://curated-lake/prod/events/', bucket: 'curated-lake', prefix: 'prod/events/' },
      s3: { endpoint: 'http://minio:9000', region: 'eu-central-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-key', forcePathStyle: true },
      redis: { url: 'rediss://:pw@redis:6380/0' },
      marts: { timeZone: 'Asia/Seoul', topDocsEveryMs: 300_000, clinicalTrendEveryMs: 3_600_000, anomalySpanMs: 600_000, anomalyWarning: 2, anomalyCritical: 2 },
      stream: { watermarkDelayMs: 90_000, maxFutureSkewMs: 0, idlePartitionTimeoutMs: 30_000, batchMaxMessages: 100, batchMaxWaitMs: 1000, batchMinIntervalMs: 50, deadLetterMaxBytes: 65_536, dbOutageLimitMs: 300_000 },
      retention: { hotDays: 30 },
      archive: { flushRows: 5000, flushBytes: 512 * 1024, flushIntervalMs: 5000, lakeOutageLimitMs: 300_000 },
      jobs: { concurrency: 2 },
      server: { port: 0, apiToken: '0123456789abcdef', liveMaxConnections: 100 },
      alerts: { webhookUrl: 'https://hooks.slack.com/services/T/B/X' },
      readiness: { maxCheckpointAgeMs: 120_000, maxLag: 500 },
      generator: { eventsPerSecond: 400, anomalyEveryMs: 30_000, backfillMs: 0 },
      log: { level: 'debug' },
    });
  });

  it('trims surrounding whitespace', () => {
    expect(load({ PORT: ' 9090 \n', KAFKA_TOPIC: '\tt1 ' }).server.port).toBe(9090);
    expect(load({ KAFKA_TOPIC: '\tt1 ' }).kafka.topic).toBe('t1');
  });

  it('paces caught-up micro-batches by default on the embedded database only', () => {
    expect(load().stream.batchMinIntervalMs).toBe(250);
    expect(load({ DATABASE_URL: 'postgres://u@h/db' }).stream.batchMinIntervalMs).toBe(0);
    expect(load({ DATABASE_URL: 'postgres://u@h/db', STREAM_BATCH_MIN_INTERVAL: '100ms' }).stream.batchMinIntervalMs).toBe(100);
  });

  it('accepts postgresql:// and a socket URL without host', () => {
    expect(load({ DATABASE_URL: 'postgresql://u@h/db' }).database.url).toBe('postgresql://u@h/db');
    expect(load({ DATABASE_URL: 'postgresql:///db?host=/var/run/postgresql' }).database.url).toBe(
      'postgresql:///db?host=/var/run/postgresql',
    );
  });

  it('reads S3_FORCE_PATH_STYLE as true/false/1/0', () => {
    expect(load({ S3_FORCE_PATH_STYLE: '1' }).s3.forcePathStyle).toBe(true);
    expect(load({ S3_FORCE_PATH_STYLE: 'true' }).s3.forcePathStyle).toBe(true);
    expect(load({ S3_FORCE_PATH_STYLE: '0' }).s3.forcePathStyle).toBe(false);
    expect(load({ S3_FORCE_PATH_STYLE: 'False' }).s3.forcePathStyle).toBe(false);
  });

  it('reads broker lists with IPv4, IPv6 and underscores', () => {
    expect(load({ KAFKA_BROKERS: '10.0.0.1:9092,[::1]:9093,kafka_1:29092' }).kafka.brokers).toEqual([
      '10.0.0.1:9092',
      '[::1]:9093',
      'kafka_1:29092',
    ]);
  });

  it('reads ARCHIVE_FLUSH_BYTES as bytes with an optional binary unit', () => {
    expect(load({ ARCHIVE_FLUSH_BYTES: '1048576' }).archive.flushBytes).toBe(1_048_576);
    expect(load({ ARCHIVE_FLUSH_BYTES: '2GiB' }).archive.flushBytes).toBe(2 * 1024 ** 3);
    expect(errorOf({ ARCHIVE_FLUSH_BYTES: '64MB' }).key).toBe('ARCHIVE_FLUSH_BYTES');
    expect(errorOf({ ARCHIVE_FLUSH_BYTES: '100' }).message).toMatch(/^ARCHIVE_FLUSH_BYTES="100" is out of range; expected a whole number of bytes/);
    expect(errorOf({ ARCHIVE_FLUSH_ROWS: '0' }).key).toBe('ARCHIVE_FLUSH_ROWS');
    expect(errorOf({ ARCHIVE_FLUSH_INTERVAL: '0s' }).key).toBe('ARCHIVE_FLUSH_INTERVAL');
  });

  it('canonicalises time zones', () => {
    expect(load({ MART_TIMEZONE: 'utc' }).marts.timeZone).toBe('UTC');
    expect(load({ MART_TIMEZONE: 'Europe/Berlin' }).marts.timeZone).toBe('Europe/Berlin');
    expect(load({ MART_TIMEZONE: 'America/New_York' }).marts.timeZone).toBe('America/New_York');
  });

  it('accepts every cadence that tiles a day in whole minutes', () => {
    for (const every of ['1m', '2m', '3m', '5m', '10m', '15m', '30m', '60m', '1h', '2h', '8h', '12h', '1d', '1440m']) {
      expect(load({ TOP_DOCS_EVERY: every }).marts.topDocsEveryMs).toBe(parseDuration(every));
      expect(load({ CLINICAL_TREND_EVERY: every }).marts.clinicalTrendEveryMs).toBe(parseDuration(every));
    }
  });

  describe('LAKE_URL', () => {
    it('follows TIDEMARK_HOME when unset', () => {
      const config = load({ TIDEMARK_HOME: 'state' });
      expect(config.home).toBe(join(CWD, 'state'));
      expect(config.lake).toEqual({ kind: 'file', url: `file://${join(CWD, 'state', 'lake')}`, path: join(CWD, 'state', 'lake') });
      expect(config.database.embeddedDir).toBe(join(CWD, 'state', 'db'));
    });

    it('reads relative and absolute file URLs', () => {
      expect(load({ LAKE_URL: 'file://./data/lake' }).lake).toEqual({
        kind: 'file',
        url: `file://${join(CWD, 'data', 'lake')}`,
        path: join(CWD, 'data', 'lake'),
      });
      expect(load({ LAKE_URL: 'file://.data' }).lake).toMatchObject({ path: join(CWD, '.data') });
      expect(load({ LAKE_URL: 'file://../lake' }).lake).toEqual({
        kind: 'file',
        url: `file://${resolve(CWD, '..', 'lake')}`,
        path: resolve(CWD, '..', 'lake'),
      });
      expect(load({ LAKE_URL: 'file:///srv/lake%20one' }).lake).toEqual({ kind: 'file', url: 'file:///srv/lake%20one', path: '/srv/lake one' });
    });

    it('reads s3 URLs with and without a prefix', () => {
      expect(load({ LAKE_URL: 's3://lake' }).lake).toEqual({ kind: 's3', url: 's3://lake', bucket: 'lake', prefix: '' });
      expect(load({ LAKE_URL: 's3://lake/' }).lake).toEqual({ kind: 's3', url: 's3://lake/', bucket: 'lake', prefix: '' });
      expect(load({ LAKE_URL: 's3://my.lake-1/a/b' }).lake).toEqual({ kind: 's3', url: 's3://my.lake-1/a/b', bucket: 'my.lake-1', prefix: 'a/b/' });
    });
  });
});

describe('loadConfig: validation', () => {
  it('names key, value and expected form (exact messages)', () => {
    const duration = errorOf({ WATERMARK_DELAY: 'ten' });
    expect(duration.key).toBe('WATERMARK_DELAY');
    expect(duration.name).toBe('ConfigError');
    expect(duration.message).toBe(
      'WATERMARK_DELAY="ten" is not a duration; expected a whole number followed by ms, s, m, h or d, e.g. 90s or 10m',
    );
    expect(errorOf({ PORT: '80a' }).message).toBe('PORT="80a" is not a whole number; expected an integer from 0 to 65535');
    expect(errorOf({ PORT: '65536' }).message).toBe('PORT="65536" is out of range; expected an integer from 0 to 65535');
    expect(errorOf({ MART_TIMEZONE: 'Mars/Olympus' }).message).toBe(
      'MART_TIMEZONE="Mars/Olympus" is not a known time zone; expected an IANA name such as UTC, Europe/Berlin or Asia/Seoul',
    );
    expect(errorOf({ TOP_DOCS_EVERY: '7m' }).message).toBe(
      'TOP_DOCS_EVERY="7m" does not divide a day into whole minutes; expected a duration such as 1m, 5m, 15m, 1h or 1d',
    );
    expect(errorOf({ ANOMALY_WARNING: '120' }).message).toBe(
      'ANOMALY_CRITICAL="100" is below ANOMALY_WARNING (120); expected an integer ≥ ANOMALY_WARNING',
    );
    expect(errorOf({ KAFKA_BROKERS: 'kafka-1:9092,kafka-2' }).message).toBe(
      'KAFKA_BROKERS="kafka-1:9092,kafka-2" has an entry "kafka-2" that is not host:port; expected a comma-separated list of host:port, e.g. kafka-1:9092,kafka-2:9092',
    );
    expect(errorOf({ DATABASE_URL: 'mysql://root:hunter2@db:3306/marts' }).message).toBe(
      'DATABASE_URL="mysql://…@db:3306/…" is not a PostgreSQL URL; expected postgres://user:password@host:5432/database',
    );
    expect(errorOf({ TIDEMARK_API_TOKEN: 'short' }).message).toBe(
      'TIDEMARK_API_TOKEN (value hidden) is too short (5 characters); expected at least 16 characters',
    );
  });

  const cases: Array<[Env, string]> = [
    [{ DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'http://db/x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres:db' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'redis:6379' }, 'REDIS_URL'],
    [{ KAFKA_BROKERS: ',' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'kafka:0' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'kafka:65536' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'PLAINTEXT://kafka:9092' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: ':9092' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'ka fka:9092' }, 'KAFKA_BROKERS'],
    [{ KAFKA_TOPIC: 'curated events' }, 'KAFKA_TOPIC'],
    [{ KAFKA_TOPIC: '..' }, 'KAFKA_TOPIC'],
    [{ KAFKA_TOPIC: 't'.repeat(250) }, 'KAFKA_TOPIC'],
    [{ KAFKA_GROUP_ID: 'a\u0001b' }, 'KAFKA_GROUP_ID'],
    [{ KAFKA_ARCHIVE_GROUP_ID: 'g'.repeat(256) }, 'KAFKA_ARCHIVE_GROUP_ID'],
    [{ KAFKA_CLIENT_ID: 'a\u007fb' }, 'KAFKA_CLIENT_ID'],
    [{ LAKE_URL: '/srv/lake' }, 'LAKE_URL'],
    [{ LAKE_URL: 'http://lake' }, 'LAKE_URL'],
    [{ LAKE_URL: 'file://lake' }, 'LAKE_URL'],
    [{ LAKE_URL: 'file://' }, 'LAKE_URL'],
    [{ LAKE_URL: 's3://' }, 'LAKE_URL'],
    [{ LAKE_URL: 's3://My_Bucket/x' }, 'LAKE_URL'],
    [{ LAKE_URL: 's3://ab' }, 'LAKE_URL'],
    [{ LAKE_URL: 's3://bucket/x?versionId=1' }, 'LAKE_URL'],
    [{ S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
    [{ S3_ENDPOINT: 's3://minio' }, 'S3_ENDPOINT'],
    [{ S3_REGION: 'us east' }, 'S3_REGION'],
    [{ S3_ACCESS_KEY_ID: 'AKIA' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_SECRET_ACCESS_KEY: 'sekrit' }, 'S3_ACCESS_KEY_ID'],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE'],
    [{ REDIS_URL: 'http://redis:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis-host:6379' }, 'REDIS_URL'],
    [{ MART_TIMEZONE: 'Seoul' }, 'MART_TIMEZONE'],
    [{ MART_TIMEZONE: '+09:00' }, 'MART_TIMEZONE'],
    [{ WATERMARK_DELAY: '10' }, 'WATERMARK_DELAY'],
    [{ WATERMARK_DELAY: '-1m' }, 'WATERMARK_DELAY'],
    [{ MAX_FUTURE_SKEW: '5 min' }, 'MAX_FUTURE_SKEW'],
    [{ IDLE_PARTITION_TIMEOUT: '0s' }, 'IDLE_PARTITION_TIMEOUT'],
    [{ TOP_DOCS_EVERY: '90s' }, 'TOP_DOCS_EVERY'],
    [{ TOP_DOCS_EVERY: '0m' }, 'TOP_DOCS_EVERY'],
    [{ TOP_DOCS_EVERY: '2d' }, 'TOP_DOCS_EVERY'],
    [{ CLINICAL_TREND_EVERY: '7m' }, 'CLINICAL_TREND_EVERY'],
    [{ CLINICAL_TREND_EVERY: '30s' }, 'CLINICAL_TREND_EVERY'],
    [{ ANOMALY_SPAN: '0m' }, 'ANOMALY_SPAN'],
    [{ ANOMALY_SPAN: 'five minutes' }, 'ANOMALY_SPAN'],
    [{ ANOMALY_WARNING: '1' }, 'ANOMALY_WARNING'],
    [{ ANOMALY_WARNING: '2.5' }, 'ANOMALY_WARNING'],
    [{ ANOMALY_WARNING: '-5' }, 'ANOMALY_WARNING'],
    [{ ANOMALY_CRITICAL: '49' }, 'ANOMALY_CRITICAL'],
    [{ ANOMALY_CRITICAL: 'lots' }, 'ANOMALY_CRITICAL'],
    [{ STREAM_BATCH_MAX_MESSAGES: '0' }, 'STREAM_BATCH_MAX_MESSAGES'],
    [{ STREAM_BATCH_MAX_MESSAGES: '1e3' }, 'STREAM_BATCH_MAX_MESSAGES'],
    [{ STREAM_BATCH_MAX_MESSAGES: '1000001' }, 'STREAM_BATCH_MAX_MESSAGES'],
    [{ STREAM_BATCH_MAX_WAIT: '200' }, 'STREAM_BATCH_MAX_WAIT'],
    [{ HOT_RETENTION_DAYS: '0' }, 'HOT_RETENTION_DAYS'],
    [{ HOT_RETENTION_DAYS: '7d' }, 'HOT_RETENTION_DAYS'],
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: 'http' }, 'PORT'],
    [{ TIDEMARK_API_TOKEN: '123456789012345' }, 'TIDEMARK_API_TOKEN'],
    [{ ALERT_WEBHOOK_URL: 'hooks.slack.com/services/x' }, 'ALERT_WEBHOOK_URL'],
    [{ ALERT_WEBHOOK_URL: 'ftp://hooks.example.com/x' }, 'ALERT_WEBHOOK_URL'],
    [{ ALERT_WEBHOOK_URL: 'https://' }, 'ALERT_WEBHOOK_URL'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ LOG_LEVEL: 'warning' }, 'LOG_LEVEL'],
  ];
  for (const [env, key] of cases) {
    it(`rejects ${JSON.stringify(env)} naming ${key}`, () => {
      const error = errorOf(env);
      expect(error.key).toBe(key);
      expect(error.message.startsWith(key)).toBe(true);
      expect(error.message).toContain('; expected ');
      expect(error.message).not.toContain('\n');
    });
  }

  it('counts token length in characters, not UTF-16 units', () => {
    expect(errorOf({ TIDEMARK_API_TOKEN: '🔑'.repeat(15) }).message).toBe(
      'TIDEMARK_API_TOKEN (value hidden) is too short (15 characters); expected at least 16 characters',
    );
    expect(load({ TIDEMARK_API_TOKEN: '🔑'.repeat(16) }).server.apiToken).toBe('🔑'.repeat(16));
  });

  it('explains a missing half of the S3 key pair', () => {
    expect(errorOf({ S3_ACCESS_KEY_ID: 'AKIA' }).message).toBe(
      'S3_SECRET_ACCESS_KEY is not set but S3_ACCESS_KEY_ID is; expected both or neither',
    );
  });

  describe('secrets never appear in messages', () => {
    const secret = 'Hunter2Hunter2';
    const cases: Env[] = [
      { DATABASE_URL: `mysql://admin:${secret}@db/marts` },
      { DATABASE_URL: `postgres//admin:${secret}@db/marts` },
      { DATABASE_URL: `${secret}` },
      { REDIS_URL: `http://:${secret}@redis:6379` },
      { ALERT_WEBHOOK_URL: `ftp://hooks.example.com/services/${secret}` },
      { ALERT_WEBHOOK_URL: `hooks.example.com/services/${secret}` },
      { S3_ENDPOINT: `ftp://key:${secret}@minio:9000` },
      { TIDEMARK_API_TOKEN: 'Hunter2' },
      { S3_SECRET_ACCESS_KEY: secret },
      { S3_ACCESS_KEY_ID: secret },
    ];
    for (const env of cases) {
      it(`hides the value of ${Object.keys(env)[0]}`, () => {
        const message = errorOf(env).message;
        expect(message).not.toContain('Hunter2');
      });
    }

    it('shows enough of a URL to spot a wrong scheme or host', () => {
      expect(errorOf({ REDIS_URL: `http://:${secret}@redis:6379` }).message).toBe(
        'REDIS_URL="http://…@redis:6379" is not a Redis URL; expected redis://host:6379 or rediss://host:6380',
      );
      expect(errorOf({ ALERT_WEBHOOK_URL: `ftp://hooks.example.com/services/${secret}` }).message).toBe(
        'ALERT_WEBHOOK_URL="ftp://hooks.example.com/…" is not an HTTP URL; expected https://hooks.slack.com/services/…',
      );
      expect(errorOf({ DATABASE_URL: `${secret}` }).message).toBe(
        'DATABASE_URL="…" is not a PostgreSQL URL; expected postgres://user:password@host:5432/database',
      );
    });
  });

  it('clips very long values', () => {
    const message = errorOf({ LOG_LEVEL: 'x'.repeat(500) }).message;
    expect(message).toBe(`LOG_LEVEL="${'x'.repeat(80)}…" is not a log level; expected debug, info, warn, error`);
  });
});

describe('loadConfig: config file', () => {
  it('reads settings from TIDEMARK_CONFIG, relative to cwd', () => {
    const name = writeConfigFile({ KAFKA_TOPIC: 'from-file', PORT: 9000, S3_FORCE_PATH_STYLE: true, WATERMARK_DELAY: '2m' });
    const config = load({ TIDEMARK_CONFIG: name });
    expect(config.configFile).toBe(join(CWD, name));
    expect(config.kafka.topic).toBe('from-file');
    expect(config.server.port).toBe(9000);
    expect(config.s3.forcePathStyle).toBe(true);
    expect(config.stream.watermarkDelayMs).toBe(120_000);
    expect(config.kafka.groupId).toBe('tidemark-stream');
  });

  it('accepts an absolute path', () => {
    const name = writeConfigFile({ LOG_LEVEL: 'warn' });
    expect(load({ TIDEMARK_CONFIG: join(CWD, name) }).log.level).toBe('warn');
  });

  it('lets the environment win over the file', () => {
    const name = writeConfigFile({ KAFKA_TOPIC: 'from-file', PORT: '9000' });
    const config = load({ TIDEMARK_CONFIG: name, KAFKA_TOPIC: 'from-env' });
    expect(config.kafka.topic).toBe('from-env');
    expect(config.server.port).toBe(9000);
  });

  it('falls back to the file when the environment value is blank', () => {
    const name = writeConfigFile({ KAFKA_TOPIC: 'from-file' });
    expect(load({ TIDEMARK_CONFIG: name, KAFKA_TOPIC: '' }).kafka.topic).toBe('from-file');
  });

  it('treats blank file values as unset', () => {
    const name = writeConfigFile({ DATABASE_URL: '', KAFKA_TOPIC: '  ' });
    const config = load({ TIDEMARK_CONFIG: name });
    expect(config.database.url).toBeNull();
    expect(config.kafka.topic).toBe('curated.events');
  });

  it('validates file values like environment values, naming the file', () => {
    const name = writeConfigFile({ WATERMARK_DELAY: 600000 });
    const error = errorOf({ TIDEMARK_CONFIG: name });
    expect(error.key).toBe('WATERMARK_DELAY');
    expect(error.message).toBe(
      `WATERMARK_DELAY="600000" (from ${join(CWD, name)}) is not a duration; expected a whole number followed by ms, s, m, h or d, e.g. 90s or 10m`,
    );
  });

  it('checks cross-key rules across file and environment', () => {
    const name = writeConfigFile({ ANOMALY_CRITICAL: 40 });
    expect(errorOf({ TIDEMARK_CONFIG: name }).key).toBe('ANOMALY_CRITICAL');
    expect(load({ TIDEMARK_CONFIG: name, ANOMALY_WARNING: '40' }).marts).toMatchObject({ anomalyWarning: 40, anomalyCritical: 40 });
  });

  it('rejects an unknown key, suggesting the closest known one', () => {
    const name = writeConfigFile({ KAFKA_TOPICS: 'x' });
    const error = errorOf({ TIDEMARK_CONFIG: name });
    expect(error.key).toBe('KAFKA_TOPICS');
    expect(error.message).toBe(
      `${join(CWD, name)}: unknown key "KAFKA_TOPICS"; expected one of the environment variable names, e.g. KAFKA_TOPIC`,
    );
  });

  it('rejects an unknown key with no close match', () => {
    const name = writeConfigFile({ colour: 'blue' });
    expect(errorOf({ TIDEMARK_CONFIG: name }).message).toBe(
      `${join(CWD, name)}: unknown key "colour"; expected one of the environment variable names`,
    );
  });

  it('rejects TIDEMARK_CONFIG inside the file (no chaining)', () => {
    const name = writeConfigFile({ TIDEMARK_CONFIG: 'other.json' });
    expect(errorOf({ TIDEMARK_CONFIG: name }).key).toBe('TIDEMARK_CONFIG');
  });

  it('rejects values that are not strings, numbers or booleans', () => {
    const name = writeConfigFile({ KAFKA_BROKERS: ['a:9092'] });
    const error = errorOf({ TIDEMARK_CONFIG: name });
    expect(error.key).toBe('KAFKA_BROKERS');
    expect(error.message).toBe(`KAFKA_BROKERS in ${join(CWD, name)} is an array; expected a string or a number`);
    const nullFile = writeConfigFile({ PORT: null });
    expect(errorOf({ TIDEMARK_CONFIG: nullFile }).message).toBe(
      `PORT in ${join(CWD, nullFile)} is null; expected a string or a number`,
    );
    const objectFile = writeConfigFile({ PORT: { n: 1 } });
    expect(errorOf({ TIDEMARK_CONFIG: objectFile }).message).toBe(
      `PORT in ${join(CWD, objectFile)} is an object; expected a string or a number`,
    );
  });

  it('reports a missing file', () => {
    const error = errorOf({ TIDEMARK_CONFIG: 'nope.json' });
    expect(error.key).toBe('TIDEMARK_CONFIG');
    expect(error.message).toBe(
      `TIDEMARK_CONFIG="nope.json" cannot be read (ENOENT: ${join(CWD, 'nope.json')}); expected a readable JSON file`,
    );
  });

  it('reports invalid JSON on one line', () => {
    const error = errorOf({ TIDEMARK_CONFIG: writeConfigFile('{\n  "PORT": 8080,\n}') });
    expect(error.key).toBe('TIDEMARK_CONFIG');
    expect(error.message).toMatch(/^TIDEMARK_CONFIG="config-\d+\.json" is not valid JSON \(.+\); expected a JSON object of settings$/);
    expect(error.message).not.toContain('\n');
  });

  it('rejects a file that is not an object', () => {
    for (const content of ['[]', '"PORT=1"', 'null', '42']) {
      const name = writeConfigFile(content);
      expect(errorOf({ TIDEMARK_CONFIG: name }).message).toBe(
        `TIDEMARK_CONFIG="${name}" does not hold a JSON object; expected {"KEY": "value", …}`,
      );
    }
  });

  it('hides secrets read from the file too', () => {
    const name = writeConfigFile({ DATABASE_URL: 'mysql://u:Hunter2@db/x' });
    const error = errorOf({ TIDEMARK_CONFIG: name });
    expect(error.message).not.toContain('Hunter2');
    expect(error.message).toBe(
      `DATABASE_URL="mysql://…@db/…" (from ${join(CWD, name)}) is not a PostgreSQL URL; expected postgres://user:password@host:5432/database`,
    );
  });
});

describe('redactConfig', () => {
  it('replaces credentials and keeps everything else', () => {
    const config = load({
      DATABASE_URL: 'postgres://u:Hunter2@db:5432/marts',
      REDIS_URL: 'redis://:Hunter2@redis:6379',
      S3_ACCESS_KEY_ID: 'AKIAHunter2',
      S3_SECRET_ACCESS_KEY: 'Hunter2',
      TIDEMARK_API_TOKEN: 'Hunter2Hunter2Hunter2',
      ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/Hunter2',
    });
    const redacted = redactConfig(config);
    expect(JSON.stringify(redacted)).not.toContain('Hunter2');
    expect(redacted.database.url).toBe('postgres://…@db:5432/…');
    expect(redacted.redis.url).toBe('redis://…@redis:6379');
    expect(redacted.alerts.webhookUrl).toBe('https://hooks.slack.com/…');
    expect(redacted.s3.secretAccessKey).toBe('[redacted]');
    expect(redacted.server).toEqual({ port: 8080, apiToken: '[redacted]', liveMaxConnections: 100 });
    expect(redacted.marts).toEqual(config.marts);
    expect(Object.isFrozen(redacted.s3)).toBe(true);
    // The original is untouched.
    expect(config.s3.secretAccessKey).toBe('Hunter2');
  });

  it('keeps unset values null', () => {
    const redacted = redactConfig(load());
    expect(redacted.database.url).toBeNull();
    expect(redacted.server.apiToken).toBeNull();
    expect(redacted.s3.accessKeyId).toBeNull();
  });
});
