// Fresh databases for tests, one of each kind tidemark runs on:
// - PGlite in memory, always (cloned from a per-process template: ~0.3 s instead of ~3 s);
// - a throwaway database on the real server named by TEST_DATABASE_URL, when it is set
//   (CREATE DATABASE tidemark_t_…, dropped on dispose). Under CI it must be set: a suite that
//   silently skips the real server in CI would prove nothing about it.
//
// Usage:
//   for (const factory of testDatabaseFactories()) describe(factory.label, () => { … });
//   for await (const t of withTestDatabases()) { … t.db … }   // disposed after each turn

import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/io/db/database.ts';
import { migrate } from '../../src/io/db/migrate.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { createPgliteDatabase } from '../../src/io/db/pglite-database.ts';

export type TestDatabaseKind = 'pglite' | 'pg';

export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  readonly label: string;
  readonly db: Database;
  /** Connection URL of the throwaway database (pg only): open more pools on the same data. */
  readonly url: string | undefined;
  /** Closes the database and, for pg, drops it. Safe to call twice. */
  dispose(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Apply db/migrations (default true); false gives an empty database. */
  readonly migrate?: boolean;
}

export interface TestDatabaseFactory {
  readonly kind: TestDatabaseKind;
  readonly label: string;
  create(options?: CreateTestDatabaseOptions): Promise<TestDatabase>;
}

const PREFIX = 'tidemark_t_';
// Databases left behind by a crashed run are dropped once they are this old.
const STALE_AFTER_SECONDS = 6 * 3600;

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export function testDatabaseUrl(): string | undefined {
  const url = process.env['TEST_DATABASE_URL']?.trim();
  if (url !== undefined && url !== '') return url;
  if (isCi()) {
    throw new Error(
      'TEST_DATABASE_URL is not set under CI: the real-PostgreSQL tests would be skipped. ' +
        'Run `bash scripts/services.sh up && source .services/env.sh` first.',
    );
  }
  return undefined;
}

// ---- PGlite -----------------------------------------------------------------------------------

let blankTemplate: Promise<Blob> | undefined;
let migratedTemplate: Promise<Blob> | undefined;

async function dumpOf(prepare: (db: Database) => Promise<void>): Promise<Blob> {
  const db = await createPgliteDatabase(undefined);
  try {
    await prepare(db);
    return await db.dumpDataDir();
  } finally {
    await db.close();
  }
}

function pgliteTemplate(migrated: boolean): Promise<Blob> {
  if (migrated) {
    migratedTemplate ??= dumpOf(async (db) => {
      await migrate(db);
    });
    return migratedTemplate;
  }
  blankTemplate ??= dumpOf(async () => {});
  return blankTemplate;
}

const pgliteFactory: TestDatabaseFactory = {
  kind: 'pglite',
  label: 'pglite (in memory)',
  async create(options = {}) {
    const template = await pgliteTemplate(options.migrate ?? true);
    const db = await createPgliteDatabase(undefined, { template });
    let disposed: Promise<void> | undefined;
    return {
      kind: 'pglite',
      label: this.label,
      db,
      url: undefined,
      dispose: () => (disposed ??= db.close()),
    };
  },
};

// ---- real PostgreSQL ------------------------------------------------------------------------------

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function newDatabaseName(): string {
  const stamp = Math.floor(Date.now() / 1000).toString(36);
  return `${PREFIX}${stamp}_${randomBytes(5).toString('hex')}`;
}

let sweptStale = false;

async function dropStaleDatabases(admin: Database): Promise<void> {
  if (sweptStale) return;
  sweptStale = true;
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'tidemark\\_t\\_%'",
  );
  const now = Date.now() / 1000;
  for (const { datname } of rows) {
    const match = /^tidemark_t_([0-9a-z]+)_[0-9a-f]+$/.exec(datname);
    const created = match?.[1] === undefined ? Number.NaN : Number.parseInt(match[1], 36);
    if (Number.isFinite(created) && now - created > STALE_AFTER_SECONDS) {
      await admin.exec(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}

function pgFactory(adminUrl: string): TestDatabaseFactory {
  return {
    kind: 'pg',
    label: 'pg (PostgreSQL server)',
    async create(options = {}) {
      const name = newDatabaseName();
      const admin = createPgDatabase(adminUrl, { max: 1, applicationName: 'tidemark-test-admin' });
      try {
        await dropStaleDatabases(admin);
        // The name is generated above from [0-9a-z_] only, so splicing it is safe.
        await admin.exec(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.close();
      }
      const url = withDatabase(adminUrl, name);
      const db = createPgDatabase(url, { max: 4, applicationName: 'tidemark-test' });
      const drop = async (): Promise<void> => {
        await db.close();
        // An autovacuum worker busy in the database (after a write-heavy test) belongs to the
        // bootstrap superuser, and FORCE may not terminate it as our role: retry until it is done
        // (on a loaded machine a vacuum after a large test took longer than 10 s).
        const deadline = Date.now() + 90_000;
        for (;;) {
          const dropper = createPgDatabase(adminUrl, { max: 1, applicationName: 'tidemark-test-admin' });
          try {
            await dropper.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
            return;
          } catch (error) {
            if (Date.now() > deadline || !String((error as Error).message).includes('must be a member of the role')) throw error;
          } finally {
            await dropper.close();
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      };
      try {
        if (options.migrate ?? true) await migrate(db);
      } catch (error) {
        await drop();
        throw error;
      }
      let disposed: Promise<void> | undefined;
      return { kind: 'pg', label: this.label, db, url, dispose: () => (disposed ??= drop()) };
    },
  };
}

// ---- entry points ---------------------------------------------------------------------------------

/** PGlite always; PostgreSQL when TEST_DATABASE_URL is set (and required under CI). */
export function testDatabaseFactories(): TestDatabaseFactory[] {
  const url = testDatabaseUrl();
  return url === undefined ? [pgliteFactory] : [pgliteFactory, pgFactory(url)];
}

/** Yields a fresh database of each kind in turn, disposing it when the loop moves on or exits. */
export async function* withTestDatabases(options: CreateTestDatabaseOptions = {}): AsyncGenerator<TestDatabase> {
  for (const factory of testDatabaseFactories()) {
    const handle = await factory.create(options);
    try {
      yield handle;
    } finally {
      await handle.dispose();
    }
  }
}
