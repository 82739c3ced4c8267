// Builds the Superset dashboard bundle: superset/bundle/**/*.yaml (the sources, in Superset's
// v1 import format) → superset/dist/tidemark-dashboards.zip for
// `superset import-dashboards --path …` (docker-compose.yaml's superset-init runs it).
//
//   node scripts/build-superset-bundle.ts [--out FILE] [--database-uri URI]
//   node scripts/build-superset-bundle.ts --uuid chart:my_new_chart   # uuid for a new source
//
// The sources link to each other by uuid (chart → dataset_uuid, dataset → database_uuid,
// dashboard position → chart uuid). The uuids are version-5 uuids of "kind:name", so they are
// stable across exports and machines, and a re-import updates the same objects instead of adding
// copies; the build refuses a source whose uuid does not match its name, which catches a copied
// file that kept its original's uuid.
//
// --database-uri replaces the placeholder URI of databases/tidemark.yaml in the zip. Superset's
// `import-dashboards` CLI has no way to pass passwords: it stores the password written in the
// URI, and Superset 5 connects with it during the import (to register the database's catalogs
// and schemas), so an import with the placeholder fails. The zip to import carries the real URI
// (keep it private: it holds the password), as docker-compose.yaml's superset-bundle builds it.
//
// The zip is deterministic (sorted entries, fixed timestamps) and has one top folder, which
// Superset's importer expects and strips.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { parse, parseDocument } from 'yaml';

export const BUNDLE_DIR = fileURLToPath(new URL('../superset/bundle/', import.meta.url));
export const DEFAULT_OUT = fileURLToPath(new URL('../superset/dist/tidemark-dashboards.zip', import.meta.url));
export const ZIP_ROOT = 'tidemark-dashboards';

/** Namespace of every uuid in the bundle; changing it would orphan already-imported objects. */
export const BUNDLE_UUID_NAMESPACE = '3f6c2a1e-9b7d-5e84-a1c3-7d2e9f0b4c56';

export type BundleKind = 'database' | 'dataset' | 'chart' | 'dashboard';

/** RFC 4122 version-5 (SHA-1, name-based) uuid. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function bundleUuid(kind: BundleKind, name: string): string {
  return uuidV5(BUNDLE_UUID_NAMESPACE, `${kind}:${name}`);
}

export interface BundleSource {
  /** Path inside the bundle, e.g. 'charts/daily_events.yaml'. */
  readonly path: string;
  readonly text: string;
  readonly doc: Record<string, unknown>;
}

function listYaml(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = resolve(dir, entry.name);
    if (entry.isDirectory()) return listYaml(full);
    return entry.name.endsWith('.yaml') ? [full] : [];
  });
}

/** The uuid a source must carry, from its folder and name; undefined for metadata.yaml. */
function expectedUuid(path: string, doc: Record<string, unknown>): string | undefined {
  const stem = basename(path, '.yaml');
  const top = path.split('/')[0];
  if (top === 'databases') return bundleUuid('database', String(doc['database_name']));
  if (top === 'datasets') return bundleUuid('dataset', String(doc['table_name']));
  if (top === 'charts') return bundleUuid('chart', stem);
  if (top === 'dashboards') return bundleUuid('dashboard', stem);
  return undefined;
}

export function readBundleSources(dir: string = BUNDLE_DIR): BundleSource[] {
  const sources = listYaml(dir)
    .map((full) => relative(dir, full).split('\\').join('/'))
    .sort()
    .map((path) => {
      const text = readFileSync(resolve(dir, path), 'utf8');
      const doc: unknown = parse(text);
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        throw new Error(`superset bundle: ${path} is not a YAML mapping`);
      }
      return { path, text, doc: doc as Record<string, unknown> };
    });
  if (!sources.some((source) => source.path === 'metadata.yaml')) {
    throw new Error('superset bundle: metadata.yaml is missing');
  }
  for (const { path, doc } of sources) {
    const expected = expectedUuid(path, doc);
    if (expected !== undefined && doc['uuid'] !== expected) {
      throw new Error(`superset bundle: ${path} has uuid ${String(doc['uuid'])}, expected ${expected} (name-based, see --uuid)`);
    }
  }
  return sources;
}

// 1980-01-01, the zip format's epoch: the archive's bytes depend on the sources only.
const ZIP_MTIME = new Date(1980, 0, 1);

export interface BuildOptions {
  /** SQLAlchemy URI written into every databases/*.yaml instead of the placeholder. */
  readonly databaseUri?: string;
}

/** The source with its sqlalchemy_uri replaced, comments and key order kept. */
function withDatabaseUri(source: BundleSource, uri: string): BundleSource {
  const doc = parseDocument(source.text);
  doc.set('sqlalchemy_uri', uri);
  const text = doc.toString();
  return { path: source.path, text, doc: parse(text) as Record<string, unknown> };
}

export function buildBundleZip(sources: readonly BundleSource[], options: BuildOptions = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  for (const source of sources) {
    const { databaseUri } = options;
    const { path, text } =
      databaseUri !== undefined && source.path.startsWith('databases/') ? withDatabaseUri(source, databaseUri) : source;
    files[`${ZIP_ROOT}/${path}`] = [new TextEncoder().encode(text), { mtime: ZIP_MTIME }];
  }
  return zipSync(files, { level: 6 });
}

export function writeBundle(out: string = DEFAULT_OUT, dir: string = BUNDLE_DIR, options: BuildOptions = {}): string {
  const zip = buildBundleZip(readBundleSources(dir), options);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  return out;
}

function main(argv: readonly string[]): number {
  const uuidIndex = argv.indexOf('--uuid');
  if (uuidIndex >= 0) {
    const [kind, ...rest] = (argv[uuidIndex + 1] ?? '').split(':');
    if (!['database', 'dataset', 'chart', 'dashboard'].includes(kind ?? '') || rest.length === 0) {
      process.stderr.write('usage: --uuid database|dataset|chart|dashboard:NAME\n');
      return 2;
    }
    process.stdout.write(`${bundleUuid(kind as BundleKind, rest.join(':'))}\n`);
    return 0;
  }
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  if (outIndex >= 0 && (out === undefined || out === '')) {
    process.stderr.write('usage: --out FILE\n');
    return 2;
  }
  const uriIndex = argv.indexOf('--database-uri');
  const databaseUri = uriIndex >= 0 ? argv[uriIndex + 1] : undefined;
  if (uriIndex >= 0 && (databaseUri === undefined || !/^[a-z0-9+]+:\/\//.test(databaseUri))) {
    process.stderr.write('usage: --database-uri postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DB\n');
    return 2;
  }
  const written = writeBundle(out === undefined ? DEFAULT_OUT : resolve(out), BUNDLE_DIR, databaseUri === undefined ? {} : { databaseUri });
  process.stdout.write(`wrote ${written}\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
