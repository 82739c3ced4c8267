// db/init against the real server: the init files create tidemark_rw and tidemark_ro, the
// engine migrates as tidemark_rw, and Superset's tidemark_ro can read every mart but write
// nothing (SPEC §8: "Superset connects with a read-only role").
//
// The files are run with the real psql, exactly as the postgres image's entrypoint runs them
// (`psql -v ON_ERROR_STOP=1 --no-psqlrc -f …`), so the \getenv / \if plumbing is tested too.
//
// Roles are cluster-wide and creating them needs CREATEROLE or superuser, which the test role of
// TEST_DATABASE_URL lacks: the role part needs TEST_DATABASE_ADMIN_URL (e.g. the postgres
// superuser over the services' Unix socket). Roles that already exist are expected — a second
// run of the init files is part of what is tested — and are left in place; the throwaway
// database is dropped.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { migrate } from '../../src/io/db/migrate.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { testDatabaseUrl } from '../support/databases.ts';
import {
  DB_INIT_FILES as INIT_FILES,
  TEST_RO_PASSWORD as RO_PASSWORD,
  TEST_RW_PASSWORD as RW_PASSWORD,
  adminDatabaseUrl,
  psqlInitFile as psqlFile,
  withDatabase,
} from '../support/db-init.ts';

const MARTS = [
  'mart_realtime_traffic_minute',
  'mart_realtime_top_docs_1h',
  'mart_realtime_clinical_trend_24h',
  'mart_realtime_anomaly_sessions',
  'mart_session_analysis',
  'mart_daily_traffic',
  'mart_clinical_areas',
  'mart_popular_documents',
  // The dashboards' session rollups (020) and the box plot's view (021).
  'mart_session_histogram',
  'mart_session_percentiles',
  'mart_session_clicks',
  'session_histogram_buckets',
  'dash_session_clicks_by_weekday',
];

async function sqlstateOf(client: pg.Client, sql: string): Promise<string | undefined> {
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

const admin = adminDatabaseUrl();
const appUrl = testDatabaseUrl();

// Visible in the run's summary, unlike a silently skipped suite.
if (admin === undefined) {
  it.todo('db/init roles: set TEST_DATABASE_ADMIN_URL (a superuser connection) to run them against PostgreSQL');
}

describe.skipIf(admin === undefined || appUrl === undefined)('db/init roles on PostgreSQL', () => {
  const dbName = `tidemark_t_roles_${randomBytes(4).toString('hex')}`;
  let adminClient: pg.Client;
  let rw: Database | undefined;
  let ro: pg.Client | undefined;

  beforeAll(async () => {
    adminClient = new pg.Client({ connectionString: admin });
    await adminClient.connect();
    const { rows } = await adminClient.query<{ rolsuper: boolean; rolcreaterole: boolean }>(
      'SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user',
    );
    if (rows[0]?.rolsuper !== true) {
      throw new Error('TEST_DATABASE_ADMIN_URL must name a superuser (the postgres image runs db/init as one)');
    }
    await adminClient.query(`CREATE DATABASE ${dbName}`);
  });

  afterAll(async () => {
    await ro?.end();
    await rw?.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await adminClient.end();
  });

  it('applies the init files twice (idempotent) with passwords from the environment', async () => {
    const url = withDatabase(admin ?? '', dbName);
    const env = { TIDEMARK_RW_PASSWORD: RW_PASSWORD, TIDEMARK_RO_PASSWORD: RO_PASSWORD };
    for (let round = 0; round < 2; round++) {
      for (const file of INIT_FILES) await psqlFile(url, file, env);
    }
    const { rows } = await adminClient.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; rolcanlogin: boolean }>(
      "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname IN ('tidemark_rw', 'tidemark_ro') ORDER BY rolname",
    );
    expect(rows).toEqual([
      { rolname: 'tidemark_ro', rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true },
      { rolname: 'tidemark_rw', rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true },
    ]);
  });

  it('refuses to run without passwords', async () => {
    const url = withDatabase(admin ?? '', dbName);
    await expect(psqlFile(url, '00-roles.sql', { TIDEMARK_RW_PASSWORD: '', TIDEMARK_RO_PASSWORD: '' })).rejects.toThrow(
      /no password for tidemark_rw/,
    );
  });

  it('lets tidemark_rw run the migrations', async () => {
    rw = createPgDatabase(withDatabase(appUrl ?? '', dbName, 'tidemark_rw', RW_PASSWORD), { max: 2 });
    const result = await migrate(rw);
    expect(result.applied.length).toBeGreaterThan(0);
    const { rows } = await rw.query<{ tableowner: string }>(
      "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(rows.map((row) => row.tableowner)).toEqual(['tidemark_rw']);
  });

  it('lets tidemark_ro read every mart and write nothing', async () => {
    expect(rw).toBeDefined();
    await rw?.exec(
      "INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2026-01-02', 10, 3, 4, 9)",
    );
    ro = new pg.Client({ connectionString: withDatabase(appUrl ?? '', dbName, 'tidemark_ro', RO_PASSWORD) });
    await ro.connect();

    for (const mart of MARTS) await ro.query(`SELECT * FROM ${mart} LIMIT 1`);
    const { rows } = await ro.query<{ total_events: number }>('SELECT total_events FROM mart_daily_traffic');
    expect(rows).toEqual([{ total_events: 10 }]);

    const denied = '42501';
    expect(
      await sqlstateOf(
        ro,
        "INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2026-01-03', 1, 1, 1, 0)",
      ),
    ).toBe(denied);
    expect(await sqlstateOf(ro, 'UPDATE mart_daily_traffic SET total_events = 11')).toBe(denied);
    expect(await sqlstateOf(ro, 'DELETE FROM mart_daily_traffic')).toBe(denied);
    expect(await sqlstateOf(ro, 'TRUNCATE mart_daily_traffic')).toBe(denied);
    expect(await sqlstateOf(ro, 'CREATE TABLE ro_scratch (id int)')).toBe(denied);
    expect(await sqlstateOf(ro, 'CREATE TEMP TABLE ro_scratch (id int)')).toBe(denied);
    expect(await sqlstateOf(ro, 'CREATE SCHEMA ro_scratch')).toBe(denied);
    expect(await sqlstateOf(ro, 'DROP TABLE mart_daily_traffic')).toBe(denied);
    // The bookkeeping tables are as closed as the marts.
    expect(await sqlstateOf(ro, 'DELETE FROM schema_migrations')).toBe(denied);

    const after = await rw?.query<{ n: number }>('SELECT count(*)::int AS n FROM mart_daily_traffic');
    expect(after?.rows).toEqual([{ n: 1 }]);
  });
});
