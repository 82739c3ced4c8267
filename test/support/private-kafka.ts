// A Kafka broker of the test's own (single-node KRaft, broker and controller in one JVM, storage in
// a temporary folder, free ports), for tests that stop and restart the broker under running
// processes without disturbing the shared broker other tests use. It runs the jars provisioning
// caches under .cache/kafka/libs, configured as scripts/services.sh configures the shared one.
// stop() and start() keep the ports and the data folder, as a restarted broker would.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { JAVA, javaService, provisioned } from './java-service.ts';
import { freePort } from './net.ts';

const LIBS = fileURLToPath(new URL('../../.cache/kafka/libs', import.meta.url));

export interface PrivateKafka {
  readonly brokers: string[];
  /** Stops the broker: SIGTERM (a controlled shutdown) by default, SIGKILL as a crash. */
  stop(mode?: 'graceful' | 'kill'): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers metadata requests. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Whether the broker's jars are here (provisioning downloads them); CI must have them. */
export function privateKafkaAvailable(): boolean {
  return provisioned(LIBS);
}

function runJava(what: string, args: readonly string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logFile, 'a');
    const child = spawn(JAVA, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}; see ${logFile}`))));
  });
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const properties = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j2.properties');
  const logFile = join(dir, 'kafka.log');
  await writeFile(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'auto.create.topics.enable=false',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      // One group coordinator partition: after a restart it is loaded again at once.
      'offsets.topic.num.partitions=1',
      'transaction.state.log.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  await writeFile(
    log4j,
    ['status = warn', 'appender.out.type = Console', 'appender.out.name = STDOUT', 'appender.out.layout.type = PatternLayout', 'appender.out.layout.pattern = [%d] %p %m (%c)%n', 'rootLogger.level = warn', 'rootLogger.appenderRef.out.ref = STDOUT', ''].join('\n'),
  );
  // A cluster id is 16 random bytes in URL-safe base64; the tool reads one starting with '-' as a flag.
  let clusterId = '-';
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const tool = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${LIBS}/*`];
  await runJava('kafka storage format', [...tool, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', properties], logFile);

  const brokers = [`127.0.0.1:${port}`];
  const ready = async (): Promise<true | undefined> => {
    const admin = new Admin({ clientId: 'tidemark-test-ready', bootstrapBrokers: brokers, timeout: 5000, retries: 0 });
    try {
      await admin.listTopics();
      return true;
    } finally {
      await admin.close().catch(() => undefined);
    }
  };
  const { start, stop } = javaService({
    what: `the private Kafka broker on port ${port}`,
    args: ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${LIBS}/*`, 'kafka.Kafka', properties],
    logFile,
    ready,
    timeoutMs: 180_000,
  });

  await start();
  return {
    brokers,
    stop,
    start,
    async dispose() {
      await stop('kill');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
