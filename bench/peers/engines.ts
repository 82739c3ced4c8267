// How bench:peers starts each engine: command, arguments and environment, all from one run's
// parameters. Every engine reads the same topic from its earliest offsets and exits once it has
// caught up with the end offsets (tidemark: every event applied; Flink: bounded Kafka source;
// Spark: trigger(availableNow)).
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface EngineRun {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The peer's table prefix, compared with tidemark's marts (none for tidemark itself). */
  readonly tablePrefix?: string;
  /** Value columns that engine computes exactly, per mart (default: all). */
  readonly exactValues?: Readonly<Record<string, readonly string[]>>;
  /** Marts the engine computes (default: all three window marts). */
  readonly marts?: readonly string[];
}

export interface RunParameters {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly events: number;
  readonly runId: string;
  /** Heap of each JVM (Flink's mini-cluster, Spark's driver), e.g. 4g. */
  readonly heap: string;
}

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PEERS_CACHE = `${ROOT}.cache/peers`;

export function javaHome(): string {
  const jvms = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').filter((d) => /^java-17-openjdk-/.test(d)) : [];
  return jvms.length > 0 ? `/usr/lib/jvm/${jvms[0]}` : (process.env['JAVA_HOME'] ?? '');
}

function jdbc(databaseUrl: string): { url: string; user: string; password: string } {
  const u = new URL(databaseUrl);
  return { url: `jdbc:postgresql://${u.hostname}:${u.port || '5432'}${u.pathname}`, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

const basicEnv = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', TZ: 'UTC' });

export function tidemarkEngine(p: RunParameters): EngineRun {
  return {
    name: 'tidemark',
    command: process.execPath,
    args: [fileURLToPath(new URL('./tidemark-engine.ts', import.meta.url))],
    env: { ...basicEnv(), PEER_DATABASE_URL: p.databaseUrl, PEER_BROKERS: p.brokers.join(','), PEER_TOPIC: p.topic, PEER_EVENTS: String(p.events), PEER_CONSUMER: `peers-${p.runId}` },
  };
}

export function flinkEngine(p: RunParameters): EngineRun {
  const db = jdbc(p.databaseUrl);
  const define = (k: string, v: string): string => `-Dpeer.${k}=${v}`;
  return {
    name: 'Flink 2.2 SQL',
    command: `${javaHome()}/bin/java`,
    args: [
      `-Xmx${p.heap}`,
      '-Duser.timezone=UTC',
      // Flink's mini-cluster opens module packages reflectively, as its own launcher does.
      '--add-opens=java.base/java.util=ALL-UNNAMED',
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
      '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
      '--add-opens=java.base/java.io=ALL-UNNAMED',
      '--add-opens=java.base/java.nio=ALL-UNNAMED',
      '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
      '--add-opens=java.base/java.net=ALL-UNNAMED',
      '--add-opens=java.base/java.text=ALL-UNNAMED',
      '--add-opens=java.base/java.time=ALL-UNNAMED',
      '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
      '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
      `-Dlog4j2.configurationFile=${fileURLToPath(new URL('./flink/log4j2.properties', import.meta.url))}`,
      define('topic', p.topic),
      define('brokers', p.brokers.join(',')),
      define('group', `peers-flink-${p.runId}`),
      define('jdbc_url', db.url),
      define('db_user', db.user),
      define('db_password', db.password),
      '-cp',
      `${PEERS_CACHE}/flink/classes:${PEERS_CACHE}/flink/lib/*`,
      'FlinkPeer',
      fileURLToPath(new URL('./flink/marts.sql', import.meta.url)),
    ],
    env: { ...basicEnv(), JAVA_HOME: javaHome() },
    tablePrefix: 'flink',
  };
}

export function sparkEngine(p: RunParameters): EngineRun {
  const db = jdbc(p.databaseUrl);
  const jars = readdirSync(`${PEERS_CACHE}/spark/jars`).map((j) => `${PEERS_CACHE}/spark/jars/${j}`);
  return {
    name: 'Spark 4.2 Structured Streaming',
    command: `${PEERS_CACHE}/spark/venv/bin/python`,
    args: [fileURLToPath(new URL('./spark/marts.py', import.meta.url))],
    env: {
      ...basicEnv(),
      JAVA_HOME: javaHome(),
      PYSPARK_PYTHON: `${PEERS_CACHE}/spark/venv/bin/python`,
      PEER_DATABASE_URL: p.databaseUrl,
      PEER_JDBC_URL: db.url,
      PEER_DB_USER: db.user,
      PEER_DB_PASSWORD: db.password,
      PEER_BROKERS: p.brokers.join(','),
      PEER_TOPIC: p.topic,
      PEER_SPARK_JARS: jars.join(','),
      PEER_HEAP: p.heap,
      PEER_CHECKPOINTS: `${PEERS_CACHE}/runs/${p.runId}/spark-checkpoints`,
    },
    tablePrefix: 'spark',
    marts: ['traffic per minute', 'top docs 1 h'],
    // approx_count_distinct: only the counts are exact. In the top docs, the click count at each
    // rank is exact whatever the tie order (click_count is the first sort key).
    exactValues: { 'traffic per minute': ['total_clicks'], 'top docs 1 h': ['click_count'] },
  };
}
