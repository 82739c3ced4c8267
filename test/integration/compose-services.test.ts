// The compose stack as shipped, without a Docker engine: the project is installed the way the
// Dockerfile installs it (its COPY lines into a temporary /app, its ENV, its `npm ci` RUN line —
// so a command that needs a package the image leaves out fails here), then every service of
// docker-compose.yaml built from that image runs its own command natively, with the environment
// compose gives it, against the real PostgreSQL (roles from db/init), Kafka, S3 and Redis, until
// it is healthy (its own health check command passes) or it finishes with 0. What differs from a
// container is named, not hidden: service host names become this machine's addresses, each
// long-running service gets its own PORT (containers each have their own 8080), and the topic,
// lake prefix and consumer groups are made unique so that concurrent runs do not meet. Finally
// every metric the Prometheus alert rules use must be served by a scraped process.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { TEST_RW_PASSWORD, adminDatabaseUrl, applyDbInit } from '../support/db-init.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { freePort, waitFor } from '../support/net.ts';
import { startPrivateRedis } from '../support/redis.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIDEMARK_IMAGE = 'tidemark:local';
const REDIS_PASSWORD = 'compose-test-redis-password';

interface Service {
  readonly image?: string;
  readonly command?: string[];
  readonly restart?: string;
  readonly profiles?: string[];
  readonly environment?: Record<string, string | number | boolean | null>;
  readonly healthcheck?: { readonly test?: string[] };
  readonly volumes?: string[];
}

/** The Dockerfile's instructions that shape /app: COPY sources, ENV, RUN, in file order. */
function dockerfileSteps(text: string): { copies: [string, string][]; env: Record<string, string>; runs: string[] } {
  // Continuations are joined; comment lines inside a continued instruction are dropped, as Docker does.
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    current += ` ${line.replace(/\\$/, '')}`;
    if (!line.endsWith('\\')) {
      logical.push(current.trim());
      current = '';
    }
  }
  const copies: [string, string][] = [];
  const env: Record<string, string> = {};
  const runs: string[] = [];
  for (const instruction of logical) {
    const [keyword, ...rest] = instruction.split(/\s+/);
    if (keyword === 'COPY') {
      const dest = rest.pop() as string;
      for (const source of rest) copies.push([source, dest]);
    } else if (keyword === 'ENV') {
      for (const pair of rest) {
        const [k, v] = pair.split('=');
        if (k !== undefined && v !== undefined) env[k] = v;
      }
    } else if (keyword === 'RUN') {
      runs.push(rest.join(' '));
    }
  }
  return { copies, env, runs };
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
function interpolate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind: string | undefined, arg: string | undefined) => {
    const value = vars[name];
    if (value !== undefined && value !== '') return value;
    if (kind === '?') throw new Error(`compose would refuse to start: ${name}: ${arg ?? ''}`);
    return kind === '-' ? (arg ?? '') : '';
  });
}

function run(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();
const admin = adminDatabaseUrl();

describe.runIf(brokers !== undefined && pg !== undefined && s3 !== undefined && admin !== undefined)('docker-compose.yaml, run natively as shipped', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) await cleanup();
    await kafka.cleanup();
  });

  it('installs like the Dockerfile, and every tidemark service becomes healthy or finishes', { timeout: 900_000 }, async () => {
    // ---- the image: COPY, ENV, npm ci -----------------------------------------------------------
    const app = mkdtempSync(join(tmpdir(), 'tidemark-image-'));
    cleanups.push(() => rmSync(app, { recursive: true, force: true }));
    const dockerfile = dockerfileSteps(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    for (const [source, dest] of dockerfile.copies) {
      const target = dest === './' ? join(app, source) : join(app, dest);
      mkdirSync(statSync(join(ROOT, source)).isDirectory() ? target : dirname(target), { recursive: true });
      cpSync(join(ROOT, source), target, { recursive: true });
    }
    // node and npm of this test's Node first on PATH; npm's cache is the test's own, because the
    // Dockerfile's RUN line cleans it. The machine's way to the registry (user npmrc, proxy, CA
    // bundle) is kept: a build host has its own.
    const nodeDir = dirname(process.execPath);
    const network = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && /proxy|_CA_|CA_CERTS|SSL_CERT|^npm_config_/i.test(k))) as Record<string, string>;
    const baseEnv = { ...network, PATH: `${nodeDir}:${process.env['PATH'] ?? ''}`, HOME: process.env['HOME'] ?? app, npm_config_cache: join(app, '.npm-cache'), ...dockerfile.env };
    const npmRuns = dockerfile.runs.filter((r) => r.startsWith('npm '));
    expect(npmRuns).toEqual(['npm ci --omit=dev --no-audit && npm cache clean --force']);
    for (const line of npmRuns) {
      const installed = await run('sh', ['-c', line], { cwd: app, env: baseEnv });
      expect(installed.code, installed.output.slice(-3000)).toBe(0);
    }
    // What the image lacks, the tests below lack: no dev dependency is there.
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/fflate'))).toBe(true);

    // ---- the real services, as compose's host names ---------------------------------------------
    const t = await pg!.create({ migrate: false });
    cleanups.push(() => t.dispose());
    const database = new URL(t.url!).pathname.slice(1);
    await applyDbInit(admin!, database);
    // Compose's Redis requires a password (redis-server --requirepass): set it once it is up.
    const redis = await startPrivateRedis('noeviction');
    cleanups.push(() => redis.dispose());
    const setup = new Redis(redis.url);
    await setup.config('SET', 'requirepass', REDIS_PASSWORD);
    setup.disconnect();
    // kafka-init (the Kafka image's own tool) creates the topic with the partitions it names.
    const kafkaInit = (parse(readFileSync(join(ROOT, 'docker-compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services['kafka-init']?.command ?? [];
    const topic = await kafka.createTopic(Number(kafkaInit[kafkaInit.indexOf('--partitions') + 1]));
    const prefix = uniquePrefix();
    const pgUrl = new URL(t.url!);
    const redisUrl = new URL(redis.url);
    const vars: Record<string, string> = {
      TIDEMARK_RW_PASSWORD: TEST_RW_PASSWORD,
      TIDEMARK_RO_PASSWORD: 'unused-here',
      POSTGRES_PASSWORD: 'unused-here',
      MINIO_ROOT_USER: s3!.config.accessKeyId ?? '',
      MINIO_ROOT_PASSWORD: s3!.config.secretAccessKey ?? '',
      REDIS_PASSWORD,
      SUPERSET_SECRET_KEY: 'unused-here',
      SUPERSET_DB_PASSWORD: 'unused-here',
      SUPERSET_ADMIN_PASSWORD: 'unused-here',
      KAFKA_TOPIC: topic,
      LAKE_BUCKET: s3!.bucket,
      // Small demo traffic: an hour of history at 5 events/s.
      GENERATOR_RATE: '5',
    };
    const compose = parse(interpolate(readFileSync(join(ROOT, 'docker-compose.yaml'), 'utf8'), vars), { merge: true }) as { services: Record<string, Service> };
    const hosts: [RegExp, string][] = [
      [/@postgres:5432\/tidemark\b/, `@${pgUrl.host}/${database}`],
      [/^kafka:9092$/, kafka.brokers.join(',')],
      [/^http:\/\/minio:9000$/, s3!.config.endpoint ?? ''],
      [/@redis:6379\//, `@${redisUrl.host}/`],
    ];
    const envOf = (service: Service, port: number): Record<string, string> => {
      const env: Record<string, string> = { ...baseEnv };
      for (const [key, raw] of Object.entries(service.environment ?? {})) {
        let value = raw === null ? '' : String(raw);
        for (const [pattern, replacement] of hosts) value = value.replace(pattern, replacement);
        env[key] = value;
      }
      // Unique per run on shared Kafka and S3 (see the header).
      if (env['LAKE_URL'] !== undefined) env['LAKE_URL'] = `s3://${s3!.bucket}/${prefix}curated`;
      if (env['KAFKA_GROUP_ID'] !== undefined) env['KAFKA_GROUP_ID'] = `${env['KAFKA_GROUP_ID']}-${topic}`;
      if (env['KAFKA_ARCHIVE_GROUP_ID'] !== undefined) env['KAFKA_ARCHIVE_GROUP_ID'] = `${env['KAFKA_ARCHIVE_GROUP_ID']}-${topic}`;
      env['PORT'] = String(port);
      return env;
    };
    const native = (argv: readonly string[], port: number): [string, string[]] => {
      const [program, ...args] = argv.map((a) => a.replace('127.0.0.1:8080', `127.0.0.1:${port}`).replace(/^\/bundle\//, `${app}/bundle/`));
      return [program === 'node' ? process.execPath : (program as string), args];
    };
    const tidemark = Object.entries(compose.services).filter(([, s]) => s.image === TIDEMARK_IMAGE);
    expect(tidemark.map(([name]) => name).sort()).toEqual(['archive', 'console', 'generator', 'migrate', 'schedule', 'stream', 'superset-bundle', 'worker']);
    mkdirSync(join(app, 'bundle'));

    // ---- one-shot jobs first, as depends_on orders them ------------------------------------------
    const oneShot = async (name: string): Promise<string> => {
      const service = compose.services[name] as Service;
      expect(service.restart, name).toBe('no');
      const [program, args] = native(service.command ?? [], 0);
      const result = await run(program, args, { cwd: app, env: envOf(service, 0) });
      expect(result.code, `${name}: ${result.output.slice(-3000)}`).toBe(0);
      return result.output;
    };
    await oneShot('migrate');
    expect(await oneShot('schedule')).toMatch(/^daily flow scheduled at 02:00 UTC in queue tidemark-jobs; next run /);
    await oneShot('superset-bundle');
    expect(statSync(join(app, 'bundle/tidemark-dashboards.zip')).size).toBeGreaterThan(1000);

    // ---- long-running services: generator (demo profile) first, then the consumers --------------
    const ports = new Map<string, number>();
    const logs = new Map<string, string>();
    for (const name of ['generator', 'stream', 'archive', 'worker', 'console']) {
      const service = compose.services[name] as Service;
      const port = await freePort();
      ports.set(name, port);
      const [program, args] = native(service.command ?? [], port);
      const child = spawn(program, args, { cwd: app, env: envOf(service, port), stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      logs.set(name, '');
      const keep = (c: Buffer): void => void logs.set(name, (logs.get(name) ?? '') + c.toString());
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.on('exit', (code) => logs.set(name, `${logs.get(name) ?? ''}\n[exited ${String(code)}]`));
    }
    expect(compose.services['generator']?.profiles).toEqual(['demo']);
    const healthy = async (name: string): Promise<void> => {
      const check = compose.services[name]?.healthcheck?.test ?? [];
      expect(check[0], name).toBe('CMD');
      const [program, args] = native(check.slice(1), ports.get(name) ?? 0);
      await waitFor(
        `${name} to be healthy: ${(logs.get(name) ?? '').slice(-1500)}`,
        async () => ((await run(program, args, { cwd: app, env: baseEnv })).code === 0 ? true : undefined),
        180_000,
        1000,
      );
    };
    for (const name of ['stream', 'archive', 'console']) await healthy(name);
    // The worker has no HTTP port: it is up once it says so (after its Redis and database checks).
    await waitFor(`the worker to start: ${(logs.get('worker') ?? '').slice(-1500)}`, async () => ((logs.get('worker') ?? '').includes('"msg":"worker started"') ? true : undefined), 180_000);
    // The generator has produced, and stream and archive have consumed some of it.
    await waitFor('demo traffic in the topic', async () => {
      const ends = await endOffsets(kafka.brokers, topic);
      return [...ends.values()].reduce((n, o) => n + Number(o), 0) > 0 ? true : undefined;
    }, 180_000);
    const scrape = async (name: string): Promise<string> => {
      const response = await fetch(`http://127.0.0.1:${ports.get(name) ?? 0}/metrics`);
      expect(response.status, name).toBe(200);
      return response.text();
    };
    await waitFor('the stream to apply events', async () => (/^tidemark_events_applied_total [1-9]/m.test(await scrape('stream')) ? true : undefined), 300_000, 1000);
    await waitFor('the archive to write objects', async () => (/^tidemark_archive_objects_total [1-9]/m.test(await scrape('archive')) ? true : undefined), 300_000, 1000);
    for (const [name, child] of children.entries()) expect(child.exitCode, `${String(name)}: ${[...logs.values()][name]?.slice(-1500) ?? ''}`).toBeNull();

    // ---- Prometheus: every metric of the alert rules is served by a scraped process -------------
    const prometheus = parse(readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)).sort();
    expect(targets).toEqual(['archive:8080', 'console:8080', 'stream:8080']);
    const served = new Set<string>();
    for (const target of targets) {
      const text = await scrape(target.split(':')[0] as string);
      for (const match of text.matchAll(/^# TYPE (\S+) /gm)) served.add(match[1] as string);
    }
    const rules = parse(readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const used = rules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\btidemark_[a-z_]+/g)].map((m) => m[0])));
    expect(used.length).toBeGreaterThan(5);
    for (const metric of used) expect(served.has(metric), metric).toBe(true);

    // ---- stop as compose does: SIGTERM, each exits 0 --------------------------------------------
    for (const [i, child] of children.entries()) {
      const exited = new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
      child.kill('SIGTERM');
      expect(await exited, [...logs.values()][i]?.slice(-1500)).toBe(0);
    }
  });
});
