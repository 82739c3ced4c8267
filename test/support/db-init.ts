// Applies db/init (the tidemark_rw / tidemark_ro roles and their grants) to one database with the
// real psql, exactly as the postgres image's entrypoint runs the files. Needs a superuser URL
// (TEST_DATABASE_ADMIN_URL): roles are cluster-wide.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const INIT_DIR = fileURLToPath(new URL('../../db/init/', import.meta.url));
export const DB_INIT_FILES = ['00-roles.sql', '10-grants.sql'] as const;
// Fixed, so that concurrent runs on one cluster set the same password instead of racing.
export const TEST_RW_PASSWORD = 'tidemark-rw-test-password';
export const TEST_RO_PASSWORD = 'tidemark-ro-test-password';

export function adminDatabaseUrl(): string | undefined {
  const url = process.env['TEST_DATABASE_ADMIN_URL']?.trim();
  return url === undefined || url === '' ? undefined : url;
}

/** The same server URL pointing at another database, optionally as another role. */
export function withDatabase(url: string, database: string, user?: string, password?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user !== undefined) parsed.username = user;
  if (password !== undefined) parsed.password = password;
  return parsed.toString();
}

function psqlBinary(): string {
  const dir = process.env['PG_BINDIR'] ?? '/usr/lib/postgresql/15/bin';
  return existsSync(`${dir}/psql`) ? `${dir}/psql` : 'psql';
}

export async function psqlInitFile(url: string, file: string, env: Record<string, string>): Promise<void> {
  await run(psqlBinary(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '-d', url, '-f', `${INIT_DIR}${file}`], {
    env: { ...process.env, ...env },
  });
}

/** Runs every init file in `database` with the test passwords. */
export async function applyDbInit(adminUrl: string, database: string): Promise<void> {
  const url = withDatabase(adminUrl, database);
  const env = { TIDEMARK_RW_PASSWORD: TEST_RW_PASSWORD, TIDEMARK_RO_PASSWORD: TEST_RO_PASSWORD };
  for (const file of DB_INIT_FILES) await psqlInitFile(url, file, env);
}
