// A Superset with the tidemark bundle imported, and its REST API: what the Superset import test
// and the dashboard benchmark share. SQLite metadata in `home`, the repository's
// superset_config.py (test/support/superset-process.ts), the bundle built with
// scripts/build-superset-bundle.ts and imported with the CLI, as users do.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ChartForQuery } from './superset-chart-data.ts';
import { runSupersetCli } from './superset-process.ts';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface SupersetAdmin {
  readonly username: string;
  readonly password: string;
}

export interface LoggedIn {
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** GET (no body) or POST (JSON body) on Superset's API; a non-2xx answer throws with its text. */
export async function supersetApi<T>(session: LoggedIn, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${session.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...session.headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${body === undefined ? 'GET' : 'POST'} ${path}: ${response.status} ${text.slice(0, 2000)}`);
  return JSON.parse(text) as T;
}

export async function supersetLogin(url: string, admin: SupersetAdmin): Promise<LoggedIn> {
  const { access_token: token } = await supersetApi<{ access_token: string }>({ url, headers: {} }, '/api/v1/security/login', {
    username: admin.username,
    password: admin.password,
    provider: 'db',
    refresh: false,
  });
  return { url, headers: { Authorization: `Bearer ${token}` } };
}

/** `superset db upgrade`, the admin user, `superset init`: a metadata database ready for an import. */
export async function prepareSupersetMetadata(env: Record<string, string>, admin: SupersetAdmin): Promise<void> {
  await runSupersetCli(['db', 'upgrade'], env);
  await runSupersetCli(
    ['fab', 'create-admin', '--username', admin.username, '--password', admin.password, '--firstname', 'Tide', '--lastname', 'Mark', '--email', 'admin@example.org'],
    env,
  );
  // Roles and permissions: without them the import fails with "Database doesn't exist and
  // user doesn't have permission to create databases" (tried with 5.0.0).
  await runSupersetCli(['init'], env);
}

/** Builds the bundle pointed at `databaseUri` (a postgresql+psycopg2:// URI) and imports it. */
export async function importBundle(env: Record<string, string>, home: string, databaseUri: string, admin: SupersetAdmin): Promise<void> {
  const zip = join(home, 'bundle.zip');
  await execFileAsync(process.execPath, [join(REPO, 'scripts', 'build-superset-bundle.ts'), '--out', zip, '--database-uri', databaseUri]);
  await runSupersetCli(['import-dashboards', '-p', zip, '-u', admin.username], env);
}

interface ChartListEntry {
  readonly id: number;
  readonly slice_name: string;
  readonly viz_type: string;
  readonly params: string;
  readonly datasource_id: number;
  readonly datasource_type: string;
}

/** Every chart Superset holds, as test/support/superset-chart-data.ts asks for its data. */
export async function listCharts(session: LoggedIn): Promise<{ count: number; charts: ChartForQuery[] }> {
  const list = await supersetApi<{ count: number; result: ChartListEntry[] }>(session, '/api/v1/chart/?q=(page_size:100)');
  return {
    count: list.count,
    charts: list.result.map((entry) => ({
      id: entry.id,
      sliceName: entry.slice_name,
      vizType: entry.viz_type,
      datasourceId: entry.datasource_id,
      datasourceType: entry.datasource_type,
      params: JSON.parse(entry.params) as Record<string, unknown>,
    })),
  };
}
