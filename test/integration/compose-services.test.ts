// The compose stack as shipped, without a Docker engine: the project is installed the way the
// Dockerfile installs it (its COPY lines into a temporary /app, its ENV, its `npm ci` RUN line —
// so a command that needs a package the image leaves out fails here), then every service of
// docker-compose.yaml that is not a bare server (PostgreSQL, Kafka, MinIO, Redis: the test's
// real services stand in for them) runs its own command natively, with the environment compose
// gives it, until it is healthy (its own health check command passes) or it finishes with 0:
// the tidemark services, Prometheus (Debian's package, scripts/provision.sh) with the mounted
// ops/prometheus, and Superset's init job, web server, Celery worker and beat (the venv of
// scripts/provision-superset.sh) with the mounted superset_config.py and the bundle the
// superset-bundle job wrote into its volume.
//
// What differs from a container is named, not hidden: service host names become this machine's
// addresses (superset-db is a throwaway database on the test server, superset-redis a private
// redis-server with the service's memory flags); each long-running service gets a free port
// instead of its container's own 8080, 9090 or 8088; mounts and volumes are folders of a temp
// dir, and each container's /tmp its own folder; the topic, lake prefix and consumer groups are
// unique so that concurrent runs do not meet. Prometheus is Debian's 2.42, the image v3.5.0: the
// config and rules use nothing that differs between them, and promtool checks both. Superset's
// web server is the gunicorn command the import test uses (test/support/superset-process.ts),
// which mirrors the image's default server command.
//
// Then: Prometheus scrapes every target `up` and evaluates every alert rule without error (its
// HTTP API says so), and each rule's metrics are served; Superset has imported the five
// dashboards, answers each real-time chart exactly as SQL does over the hot marts the stream
// filled (and the cold ones, no day computed yet, with no rows), its worker answers the Celery
// ping and a task scheduled by beat completes on it.
// TIDEMARK_SKIP_SUPERSET=1 leaves the Superset services out (as it skips the import test).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { endOffsets } from '../../src/io/kafka/kafka-admin.ts';
import { composeMounts, dockerfileSteps, interpolate, mapPaths } from '../support/compose-file.ts';
import type { ComposeService } from '../support/compose-file.ts';
import { CHART_CHECKS } from '../support/dashboard-answers.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { TEST_RO_PASSWORD, TEST_RW_PASSWORD, adminDatabaseUrl, applyDbInit, withDatabase } from '../support/db-init.ts';
import { kafkaTestEnv, testKafkaBrokers } from '../support/kafka.ts';
import { freePort, waitFor } from '../support/net.ts';
import { startPrivateRedis } from '../support/redis.ts';
import type { PrivateRedis } from '../support/redis.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';
import { chartDataRequest } from '../support/superset-chart-data.ts';
import { SUPERSET_VENV, startSupersetServer, supersetEnv, supersetMissing } from '../support/superset-process.ts';
import type { SupersetServer } from '../support/superset-process.ts';
import { listCharts, supersetApi, supersetLogin } from '../support/superset-session.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIDEMARK_IMAGE = 'tidemark:local';
const REDIS_PASSWORD = 'compose-test-redis-password';
const SKIP_SUPERSET = process.env['TIDEMARK_SKIP_SUPERSET'] === '1';
/** The port each image's process listens on inside its container. */
const CONTAINER_PORT: Record<string, number> = { tidemark: 8080, prometheus: 9090, superset: 8088 };

function run(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (error) => resolve({ code: null, output: `${output}\n${error.message}` }));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The program as the shell would find it on PATH, or undefined. */
function onPath(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A long-running service: its process (in its own group, so that its children stop with it) and its log. */
interface Running {
  readonly child: ChildProcess;
  log(): string;
  /** SIGTERM to the whole group, as `docker compose stop` does; resolves with the exit code (null after a signal). */
  stop(): Promise<number | null>;
}

function startService(program: string, args: readonly string[], options: { cwd: string; env: Record<string, string>; logFile?: string }): Running {
  const child = spawn(program, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  const file = options.logFile === undefined ? undefined : createWriteStream(options.logFile);
  const keep = (c: Buffer): void => {
    text = (text + c.toString()).slice(-200_000);
    file?.write(c);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      text += `\n${error.message}`;
      resolve(null);
    });
    child.on('exit', (code) => {
      text += `\n[exited ${String(code)}]`;
      file?.end();
      resolve(code);
    });
  });
  return {
    child,
    log: () => text,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      return exited;
    },
  };
}

const brokers = testKafkaBrokers();
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
const s3 = testS3();
const admin = adminDatabaseUrl();

describe.runIf(brokers !== undefined && pg !== undefined && s3 !== undefined && admin !== undefined)('docker-compose.yaml, run natively as shipped', () => {
  const kafka = kafkaTestEnv(brokers ?? []);
  const services: Running[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const service of services) {
      const pid = service.child.pid;
      if (pid !== undefined && service.child.exitCode === null && service.child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const cleanup of cleanups.reverse()) await cleanup();
    await kafka.cleanup();
  });

  it('installs like the Dockerfile, and every service becomes healthy or finishes: tidemark, Prometheus, Superset', { timeout: 900_000 }, async () => {
    const started = Date.now();
    // Where the minutes go, in the run's output.
    const step = (what: string): void => void process.stderr.write(`[compose-services +${Math.round((Date.now() - started) / 1000)}s] ${what}\n`);
    const prometheusBinary = onPath('prometheus');
    if (prometheusBinary === undefined) throw new Error('prometheus is not installed: run `bash scripts/provision.sh`');
    const missingSuperset = SKIP_SUPERSET ? undefined : supersetMissing();
    if (missingSuperset !== undefined) throw new Error(`${missingSuperset} (or set TIDEMARK_SKIP_SUPERSET=1 to leave the Superset services out)`);

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
    step('installed like the image');

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
    const raw = parse(readFileSync(join(ROOT, 'docker-compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
    // kafka-init (the Kafka image's own tool) creates the topic with the partitions it names.
    const kafkaInit = raw.services['kafka-init']?.command ?? [];
    const topic = await kafka.createTopic(Number(kafkaInit[kafkaInit.indexOf('--partitions') + 1]));
    // superset-redis: the service's own memory limit and eviction policy.
    const cacheCommand = raw.services['superset-redis']?.command ?? [];
    const flag = (name: string): string => cacheCommand[cacheCommand.indexOf(name) + 1] ?? '';
    expect(cacheCommand[0]).toBe('redis-server');
    let supersetDb: TestDatabase | undefined;
    let cacheRedis: PrivateRedis | undefined;
    if (!SKIP_SUPERSET) {
      supersetDb = await pg!.create({ migrate: false });
      cleanups.push(() => supersetDb?.dispose());
      cacheRedis = await startPrivateRedis(flag('--maxmemory-policy'), ['--maxmemory', flag('--maxmemory')]);
      cleanups.push(() => cacheRedis?.dispose());
    }
    const prefix = uniquePrefix();
    const pgUrl = new URL(t.url!);
    const redisUrl = new URL(redis.url);
    const supersetAdmin = { username: 'admin', password: `admin-${randomBytes(6).toString('hex')}` };
    const vars: Record<string, string> = {
      TIDEMARK_RW_PASSWORD: TEST_RW_PASSWORD,
      TIDEMARK_RO_PASSWORD: TEST_RO_PASSWORD,
      POSTGRES_PASSWORD: 'unused-here',
      MINIO_ROOT_USER: s3!.config.accessKeyId ?? '',
      MINIO_ROOT_PASSWORD: s3!.config.secretAccessKey ?? '',
      REDIS_PASSWORD,
      SUPERSET_SECRET_KEY: randomBytes(32).toString('base64'),
      // Replaced with the throwaway metadata database's own credentials below.
      SUPERSET_DB_PASSWORD: 'replaced-here',
      SUPERSET_ADMIN_PASSWORD: supersetAdmin.password,
      KAFKA_TOPIC: topic,
      LAKE_BUCKET: s3!.bucket,
      // Small demo traffic: an hour of history at 5 events/s.
      GENERATOR_RATE: '5',
    };
    const compose = parse(interpolate(readFileSync(join(ROOT, 'docker-compose.yaml'), 'utf8'), vars), { merge: true }) as { services: Record<string, ComposeService> };
    const hosts: [RegExp, string][] = [
      [/@postgres:5432\/tidemark\b/, `@${pgUrl.host}/${database}`],
      [/^kafka:9092$/, kafka.brokers.join(',')],
      [/^http:\/\/minio:9000$/, s3!.config.endpoint ?? ''],
      [/@redis:6379\//, `@${redisUrl.host}/`],
    ];
    if (supersetDb !== undefined && cacheRedis !== undefined) {
      const meta = new URL(supersetDb.url!);
      hosts.push([/\/\/superset:[^@]*@superset-db:5432\/superset$/, `//${meta.username}:${meta.password}@${meta.host}${meta.pathname}`]);
      hosts.push([/^redis:\/\/superset-redis:6379$/, cacheRedis.url]);
    }

    // Every service's mounts: bind mounts from the project (Prometheus's config from its adjusted
    // copy), named volumes and each container's /tmp as folders of the temp dir.
    const volumesDir = join(app, 'volumes');
    const prometheusConf = join(app, 'prometheus-conf');
    const mountsOf = (name: string): [string, string][] => {
      const tmp = join(app, 'tmp', name);
      mkdirSync(tmp, { recursive: true });
      const mounts = composeMounts(compose.services[name] as ComposeService, { root: ROOT, volumesDir, tmpDir: tmp, bindOverrides: { './ops/prometheus': prometheusConf } });
      for (const [, here] of mounts) if (here.startsWith(volumesDir)) mkdirSync(here, { recursive: true });
      return mounts;
    };
    const imageOf = (name: string): string => {
      const image = compose.services[name]?.image ?? '';
      return image === TIDEMARK_IMAGE ? 'tidemark' : image.startsWith('prom/prometheus:') ? 'prometheus' : image.startsWith('tidemark-superset:') ? 'superset' : image;
    };
    const envOf = (name: string, port: number): Record<string, string> => {
      const service = compose.services[name] as ComposeService;
      const mounts = mountsOf(name);
      // The image's own environment: Node's PATH and the Dockerfile's ENV, or Superset's venv.
      const env: Record<string, string> =
        imageOf(name) === 'superset' ? { ...supersetEnv(join(app, 'tmp', name), 'set-by-compose'), HOSTNAME: hostname() } : { ...baseEnv };
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        let text = value === null ? '' : String(value);
        for (const [pattern, replacement] of hosts) text = text.replace(pattern, replacement);
        env[key] = mapPaths(text, mounts);
      }
      // Unique per run on shared Kafka and S3 (see the header).
      if (env['LAKE_URL'] !== undefined) env['LAKE_URL'] = `s3://${s3!.bucket}/${prefix}curated`;
      if (env['KAFKA_GROUP_ID'] !== undefined) env['KAFKA_GROUP_ID'] = `${env['KAFKA_GROUP_ID']}-${topic}`;
      if (env['KAFKA_ARCHIVE_GROUP_ID'] !== undefined) env['KAFKA_ARCHIVE_GROUP_ID'] = `${env['KAFKA_ARCHIVE_GROUP_ID']}-${topic}`;
      if (imageOf(name) === 'tidemark') env['PORT'] = String(port);
      return env;
    };
    /** A command of the service (or its health check) as this machine runs it. */
    const native = (name: string, argv: readonly string[], port: number): [string, string[]] => {
      const mounts = mountsOf(name);
      const inside = CONTAINER_PORT[imageOf(name)] ?? 0;
      const [program, ...args] = argv.map((a) => mapPaths(a.replace(new RegExp(`\\b(127\\.0\\.0\\.1|localhost):${inside}\\b`, 'g'), `127.0.0.1:${port}`), mounts));
      return [program === 'node' ? process.execPath : (program as string), args];
    };
    const tidemark = Object.entries(compose.services).filter(([, s]) => s.image === TIDEMARK_IMAGE);
    expect(tidemark.map(([name]) => name).sort()).toEqual(['archive', 'console', 'generator', 'migrate', 'schedule', 'stream', 'superset-bundle', 'worker']);
    // Everything else is a bare server the test's real services stand in for, or run below.
    expect(Object.keys(compose.services).filter((n) => !tidemark.some(([name]) => name === n)).sort()).toEqual(
      ['kafka', 'kafka-init', 'minio', 'minio-init', 'postgres', 'prometheus', 'redis', 'superset', 'superset-beat', 'superset-db', 'superset-init', 'superset-redis', 'superset-worker'],
    );

    // ---- one-shot jobs first, as depends_on orders them ------------------------------------------
    const oneShot = async (name: string): Promise<string> => {
      const service = compose.services[name] as ComposeService;
      expect(service.restart, name).toBe('no');
      const [program, args] = native(name, service.command ?? [], 0);
      const result = await run(program, args, { cwd: app, env: envOf(name, 0) });
      expect(result.code, `${name}: ${result.output.slice(-3000)}`).toBe(0);
      return result.output;
    };
    await oneShot('migrate');
    expect(await oneShot('schedule')).toMatch(/^daily flow scheduled at 02:00 UTC in queue tidemark-jobs; next run /);
    await oneShot('superset-bundle');
    expect(statSync(join(volumesDir, 'superset-bundle/tidemark-dashboards.zip')).size).toBeGreaterThan(1000);
    step('migrate, schedule, superset-bundle done');

    // ---- Superset, in the background from here: init, then web server, worker and beat ----------
    interface SupersetStack {
      readonly server: SupersetServer;
      readonly port: number;
      readonly worker: Running;
      readonly beat: Running;
    }
    const supersetStack = async (): Promise<SupersetStack> => {
      const initService = compose.services['superset-init'] as ComposeService;
      const [program, args] = native('superset-init', initService.command ?? [], 0);
      const init = await run(program, args, { cwd: app, env: envOf('superset-init', 0) });
      if (init.code !== 0) throw new Error(`superset-init exited ${String(init.code)}: ${init.output.slice(-3000)}`);
      step('superset-init done');
      const server = await startSupersetServer(envOf('superset', 0), join(app, 'superset-server.log'), 300_000);
      cleanups.push(() => server.stop());
      const port = Number(new URL(server.url).port);
      const celery = (name: string): Running => {
        const [cmd, cmdArgs] = native(name, compose.services[name]?.command ?? [], 0);
        const proc = startService(join(SUPERSET_VENV, 'bin', cmd), cmdArgs, { cwd: app, env: envOf(name, 0), logFile: join(app, `${name}.log`) });
        services.push(proc);
        return proc;
      };
      const worker = celery('superset-worker');
      const beat = celery('superset-beat');
      step('superset web server healthy; worker and beat started');
      return { server, port, worker, beat };
    };
    // Settled at once, so that a failure waits for the assertions below instead of escaping.
    const superset = SKIP_SUPERSET ? undefined : supersetStack().then((stack) => ({ stack }), (error: unknown) => ({ error }));

    // ---- long-running tidemark services: generator (demo profile) first, then the consumers -----
    const ports = new Map<string, number>();
    const running = new Map<string, Running>();
    for (const name of ['generator', 'stream', 'archive', 'worker', 'console']) {
      const service = compose.services[name] as ComposeService;
      const port = await freePort();
      ports.set(name, port);
      const [program, args] = native(name, service.command ?? [], port);
      const proc = startService(program, args, { cwd: app, env: envOf(name, port) });
      services.push(proc);
      running.set(name, proc);
    }
    const logOf = (name: string): string => running.get(name)?.log().slice(-1500) ?? '';
    expect(compose.services['generator']?.profiles).toEqual(['demo']);
    /** The service's own health check, run natively, passes. */
    const healthy = async (name: string, port: number, env: Record<string, string>, log: () => string, timeoutMs = 180_000): Promise<void> => {
      const [kind, ...check] = compose.services[name]?.healthcheck?.test ?? [];
      expect(['CMD', 'CMD-SHELL'], name).toContain(kind);
      // CMD-SHELL: one string for the container's shell.
      const mapped = native(name, check, port);
      const [program, args]: [string, string[]] = kind === 'CMD' ? mapped : ['sh', ['-c', mapped[0]]];
      await waitFor(
        `${name} to be healthy: ${log().slice(-1500)}`,
        async () => ((await run(program, args, { cwd: app, env })).code === 0 ? true : undefined),
        timeoutMs,
        1000,
      );
    };
    for (const name of ['stream', 'archive', 'console']) await healthy(name, ports.get(name) ?? 0, baseEnv, () => logOf(name));
    // The worker has no HTTP port: it is up once it says so (after its Redis and database checks).
    await waitFor(`the worker to start: ${logOf('worker')}`, async () => (running.get('worker')?.log().includes('"msg":"worker started"') === true ? true : undefined), 180_000);
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
    for (const [name, service] of running) expect(service.child.exitCode, `${name}: ${logOf(name)}`).toBeNull();
    step('tidemark services healthy, events applied and archived');

    // ---- Prometheus: the mounted config, with compose's host names as this machine's ------------
    const prometheusFile = readFileSync(join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8');
    const prometheusConfig = parse(prometheusFile) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = prometheusConfig.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)).sort();
    expect(targets).toEqual(['archive:8080', 'console:8080', 'stream:8080']);
    cpSync(join(ROOT, 'ops/prometheus'), prometheusConf, { recursive: true });
    const promMounts = mountsOf('prometheus');
    writeFileSync(
      join(prometheusConf, 'prometheus.yml'),
      mapPaths(prometheusFile.replace(/"(stream|archive|console):8080"/g, (_m, name: string) => `"127.0.0.1:${ports.get(name) ?? 0}"`), promMounts),
    );
    // promtool (in Debian's package) checks the config, with the rule files it names, and the rules.
    const promtool = onPath('promtool');
    expect(promtool, 'promtool comes with the prometheus package').toBeDefined();
    const checkedConfig = await run(promtool!, ['check', 'config', join(prometheusConf, 'prometheus.yml')], { cwd: app, env: baseEnv });
    expect(checkedConfig.code, checkedConfig.output).toBe(0);
    const alertRules = parse(readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
    const ruleNames = alertRules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    const checkedRules = await run(promtool!, ['check', 'rules', join(prometheusConf, 'alerts.yml')], { cwd: app, env: baseEnv });
    expect(checkedRules.code, checkedRules.output).toBe(0);
    expect(checkedRules.output).toContain(`SUCCESS: ${ruleNames.length} rules found`);
    // The image's entrypoint is the prometheus binary; compose's command is its arguments.
    const promPort = await freePort();
    const promService = compose.services['prometheus'] as ComposeService;
    const [, promArgs] = native('prometheus', ['prometheus', ...(promService.command ?? [])], promPort);
    const prometheus = startService(prometheusBinary, [...promArgs, `--web.listen-address=127.0.0.1:${promPort}`], { cwd: app, env: baseEnv });
    services.push(prometheus);
    await healthy('prometheus', promPort, baseEnv, () => prometheus.log());
    const promApi = async <T>(path: string): Promise<T> => {
      const response = await fetch(`http://127.0.0.1:${promPort}${path}`);
      expect(response.status, path).toBe(200);
      return ((await response.json()) as { data: T }).data;
    };
    // Every target scraped and up (scrape_interval 15 s).
    const scraped = await waitFor('every scrape target up', async () => {
      const { activeTargets } = await promApi<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>('/api/v1/targets');
      return activeTargets.length === targets.length && activeTargets.every((t) => t.health === 'up') ? activeTargets : undefined;
    }, 120_000, 1000);
    expect(scraped.map((t) => t.labels.job).sort()).toEqual(prometheusConfig.scrape_configs.map((c) => c.job_name).sort());
    // Every alert rule loaded and evaluated without error (evaluation_interval 30 s).
    const evaluated = await waitFor('every alert rule evaluated', async () => {
      const { groups } = await promApi<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules');
      const rules = groups.flatMap((g) => g.rules);
      return rules.length === ruleNames.length && rules.every((r) => r.health !== 'unknown') ? groups : undefined;
    }, 120_000, 1000);
    expect(evaluated.map((g) => g.name)).toEqual(alertRules.groups.map((g) => g.name));
    expect(evaluated.flatMap((g) => g.rules.map((r) => [r.name, r.health, r.lastError ?? '']))).toEqual(ruleNames.map((n) => [n, 'ok', '']));
    // Every metric of the alert rules is served by a scraped process.
    const served = new Set<string>();
    for (const target of targets) {
      const text = await scrape(target.split(':')[0] as string);
      for (const match of text.matchAll(/^# TYPE (\S+) /gm)) served.add(match[1] as string);
    }
    const used = alertRules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\btidemark_[a-z_]+/g)].map((m) => m[0])));
    expect(used.length).toBeGreaterThan(5);
    for (const metric of used) expect(served.has(metric), metric).toBe(true);
    step('prometheus: targets up, rules evaluated');

    // ---- stop as compose does: SIGTERM, each exits 0 --------------------------------------------
    for (const [name, service] of [...running, ['prometheus', prometheus] as const]) {
      expect(await service.stop(), `${name}: ${service.log().slice(-1500)}`).toBe(0);
    }
    step('tidemark services and prometheus stopped');

    // ---- Superset: the dashboards imported, every chart answers as SQL does over the marts ------
    if (superset === undefined) return;
    const outcome = await superset;
    if ('error' in outcome) throw outcome.error;
    const { stack } = outcome;
    await healthy('superset', stack.port, envOf('superset', stack.port), () => readFileSync(stack.server.logFile, 'utf8'));
    const session = await supersetLogin(stack.server.url, supersetAdmin);
    const dashboards = await supersetApi<{ result: { slug: string }[] }>(session, '/api/v1/dashboard/?q=(page_size:100)');
    expect(dashboards.result.map((d) => d.slug).sort()).toEqual(['tidemark-clinical-areas', 'tidemark-daily-traffic', 'tidemark-popular-documents', 'tidemark-realtime', 'tidemark-session-behaviour']);
    const { charts } = await listCharts(session);
    expect(new Set(charts.map((c) => c.sliceName))).toEqual(new Set(CHART_CHECKS.map((c) => c.chart)));
    // The marts hold what the stream wrote before it stopped: the answer cannot move under us.
    // Read as Superset reads them, through tidemark_ro (the tables belong to tidemark_rw).
    const marts = createPgDatabase(withDatabase(t.url!, database, 'tidemark_ro', TEST_RO_PASSWORD));
    // The real-time dashboard reads the hot marts the stream filled: each of its charts equals
    // its answer in SQL. No day has been computed into the cold marts yet (the daily flow runs at
    // 02:00): their charts must answer, with no rows.
    const realtime = await supersetApi<{ result: { slice_name: string }[] }>(session, '/api/v1/dashboard/tidemark-realtime/charts');
    const hot = new Set(realtime.result.map((c) => c.slice_name));
    expect(hot.size).toBe(6);
    const answered = new Map<string, number>();
    try {
      for (const check of CHART_CHECKS) {
        const chart = charts.find((c) => c.sliceName === check.chart)!;
        const data = await supersetApi<{ result: { data: Record<string, unknown>[]; rowcount: number }[] }>(session, '/api/v1/chart/data', chartDataRequest(chart));
        answered.set(check.chart, data.result[0]?.rowcount ?? 0);
        if (hot.has(check.chart)) expect(check.actual(data.result[0]?.data ?? []), check.chart).toEqual(await check.expected(marts));
        else expect(data.result[0]?.rowcount, check.chart).toBe(0);
      }
    } finally {
      await marts.close();
    }
    // The stream filled the hot marts: the real-time charts are not empty.
    expect(answered.get('Clicks and sessions per minute, newest 6 h (UTC)')).toBeGreaterThan(0);
    expect(answered.get('Top 20 documents of the hour, newest snapshot (UTC)')).toBeGreaterThan(0);
    step('superset: dashboards imported, the real-time charts answered as SQL does');

    // Celery: the worker answers its health check; beat's every-minute reports.scheduler reaches
    // the worker and completes (its result lands in the broker's result backend).
    await healthy('superset-worker', 0, envOf('superset-worker', 0), () => stack.worker.log(), 240_000);
    const results = new Redis(`${cacheRedis!.url}/0`);
    try {
      await waitFor(`a task scheduled by beat to complete on the worker: ${stack.beat.log().slice(-1500)}`, async () => {
        for (const key of await results.keys('celery-task-meta-*')) {
          const meta = JSON.parse((await results.get(key)) ?? '{}') as { status?: string };
          if (meta.status === 'SUCCESS') return true;
        }
        return undefined;
      }, 150_000, 2000);
    } finally {
      results.disconnect();
    }
    expect(stack.beat.child.exitCode, stack.beat.log()).toBeNull();
    step('superset worker healthy, beat scheduled a task that completed');
    for (const service of [stack.worker, stack.beat]) await service.stop();
    await stack.server.stop();
  });
});
