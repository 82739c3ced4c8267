// Schema migrations: db/migrations/NNN_name.sql, applied in version order, each exactly once and
// each in its own transaction together with its row in schema_migrations, so a crash leaves
// every file either fully applied and recorded or not at all.
//
// Several processes may start at once (stream, archiver, workers): every step holds a
// transaction-scoped advisory lock, and a file is re-checked under the lock before it runs, so
// the loser of a race simply finds it applied. (PGlite accepts the lock call and, having one
// connection, never waits on it.)
//
// An applied file must never change: its SHA-256 (over LF line endings, so a Windows checkout
// does not count as a change) is stored, and a mismatch stops the run before anything else is
// applied. Fix a released migration with a new file instead.

import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database, Queryable } from './database.ts';
import { MigrationError } from './errors.ts';

export const DEFAULT_MIGRATIONS_DIR = new URL('../../../db/migrations/', import.meta.url);

// Any fixed int8 works; this one is 'tidemark' in ASCII, unlikely to collide with other users.
const MIGRATION_LOCK_KEY = '8388346167743836779';

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  readonly version: number;
  /** The file name, e.g. '001_marts.sql'. */
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateOptions {
  /** Folder holding the NNN_name.sql files (default: the repository's db/migrations/). */
  readonly dir?: string | URL;
}

export interface MigrateResult {
  /** File names applied by this call, in order; empty when the schema was up to date. */
  readonly applied: string[];
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

export async function readMigrations(dir: string | URL = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const names = (await readdir(path)).filter((name) => name.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (match === null) throw new MigrationError(`migration file ${name} is not named NNN_lower_snake.sql`);
    const version = Number.parseInt(match[1] ?? '', 10);
    const other = seen.get(version);
    if (other !== undefined) throw new MigrationError(`migrations ${other} and ${name} share version ${version}`);
    seen.set(version, name);
    const sql = await readFile(`${path.replace(/\/?$/, '/')}${name}`, 'utf8');
    files.push({ version, name, sql, checksum: migrationChecksum(sql) });
  }
  return files;
}

interface AppliedRow {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
}

function verify(file: MigrationFile, row: AppliedRow): void {
  if (row.checksum !== file.checksum) {
    throw new MigrationError(
      `migration ${file.name} was changed after it was applied (as ${row.name}): ` +
        `checksum ${file.checksum.slice(0, 12)}… ≠ recorded ${row.checksum.slice(0, 12)}…; ` +
        'restore the file and put the change in a new migration',
    );
  }
}

export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = await readMigrations(options.dir);

  // Creating the bookkeeping table under the lock too: concurrent CREATE TABLE IF NOT EXISTS
  // can still fail on PostgreSQL with a unique violation in pg_type.
  const appliedBefore = await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INT         PRIMARY KEY,
        name       TEXT        NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        checksum   TEXT        NOT NULL
      )`);
    const { rows } = await tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations');
    return new Map(rows.map((row) => [row.version, row]));
  });

  // Refuse before applying anything if history was rewritten. Versions recorded without a file
  // are left alone: a newer release may have run against this database.
  for (const file of files) {
    const row = appliedBefore.get(file.version);
    if (row !== undefined) verify(file, row);
  }

  const applied: string[] = [];
  for (const file of files) {
    if (appliedBefore.has(file.version)) continue;
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      const { rows } = await tx.query<AppliedRow>(
        'SELECT version, name, checksum FROM schema_migrations WHERE version = $1',
        [file.version],
      );
      const row = rows[0];
      if (row !== undefined) {
        verify(file, row);
        return false;
      }
      await tx.exec(file.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      return true;
    });
    if (ran) applied.push(file.name);
  }
  return { applied };
}
