// One suite, run against every database adapter (PGlite always; PostgreSQL when
// TEST_DATABASE_URL is set): whatever passes on the embedded database must pass on the server.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { MigrationError } from '../../src/io/db/errors.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../src/io/db/migrate.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { testDatabaseFactories, type TestDatabase, type TestDatabaseFactory } from '../support/databases.ts';

const INT8_MAX = '9223372036854775807';
const INT8_MIN = '-9223372036854775808';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function count(db: Database, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

function conformanceSuite(factory: TestDatabaseFactory): void {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await factory.create();
    db = t.db;
    await db.exec(`
      CREATE TABLE conf_kv (id BIGINT PRIMARY KEY, title TEXT);
      CREATE TABLE conf_log (seq SERIAL PRIMARY KEY, who TEXT NOT NULL, at_ms BIGINT NOT NULL);`);
  });
  afterAll(async () => {
    await t.dispose();
  });

  describe('type mapping', () => {
    it('round-trips int8 exactly as strings, also in arrays and aggregates', async () => {
      const { rows } = await db.query<{ a: string; b: string; arr: string[]; n: string }>(
        'SELECT $1::bigint AS a, $2::bigint AS b, ARRAY[$1::bigint, NULL, 7] AS arr, count(*) AS n FROM (VALUES (1), (2)) v(x)',
        [INT8_MAX, INT8_MIN],
      );
      expect(rows).toEqual([{ a: INT8_MAX, b: INT8_MIN, arr: [INT8_MAX, null, '7'], n: '2' }]);

      await db.query('INSERT INTO conf_kv (id, title) VALUES ($1, $2)', [INT8_MAX, 'max']);
      const back = await db.query<{ id: string }>('SELECT id FROM conf_kv WHERE id = $1', [INT8_MAX]);
      expect(back.rows).toEqual([{ id: INT8_MAX }]);
      // JS bigint parameters work too.
      const big = await db.query<{ v: string }>('SELECT $1::bigint + 0 AS v', [9007199254740993n]);
      expect(big.rows[0]?.v).toBe('9007199254740993');
    });

    it('round-trips numeric as exact strings (trailing zeros kept, arrays too)', async () => {
      const { rows } = await db.query<{ a: string; b: string; c: string; arr: string[]; pct: string | null }>(
        'SELECT $1::numeric(10,2) AS a, $2::numeric AS b, 1.10::numeric AS c, ARRAY[0.1, 12345678901234567890.123]::numeric[] AS arr, NULL::numeric(10,2) AS pct',
        ['-100.00', '123456789012345678901234567890.000000001'],
      );
      expect(rows).toEqual([
        {
          a: '-100.00',
          b: '123456789012345678901234567890.000000001',
          c: '1.10',
          arr: ['0.1', '12345678901234567890.123'],
          pct: null,
        },
      ]);
    });

    it('pins the session to UTC and ISO dates', async () => {
      const { rows } = await db.query<{ tz: string; ds: string; day: string }>(
        "SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds, date_trunc('day', '2024-03-01 23:30:00+00'::timestamptz)::text AS day",
      );
      expect(rows[0]).toEqual({ tz: 'UTC', ds: 'ISO, YMD', day: '2024-03-01 00:00:00+00' });
    });

    it('returns timestamptz as Date (ms precision) and date/timestamp/interval as text', async () => {
      const instant = new Date('2024-03-01T12:34:56.789Z');
      const { rows } = await db.query<Record<string, unknown>>(
        `SELECT $1::timestamptz AS ts, '2024-03-01 12:34:56.789999+00'::timestamptz AS us,
                ARRAY[$1::timestamptz, NULL] AS arr, '2024-02-29'::date AS d, ARRAY['2024-02-29'::date] AS darr,
                '2024-03-01 12:00:00'::timestamp AS naive, '1 day 02:00:00'::interval AS iv,
                'infinity'::timestamptz AS inf, '-infinity'::timestamptz AS ninf`,
        [instant],
      );
      const row = rows[0] ?? {};
      expect(row['ts']).toBeInstanceOf(Date);
      expect((row['ts'] as Date).getTime()).toBe(instant.getTime());
      // Microseconds are truncated, never rounded up into the next millisecond.
      expect((row['us'] as Date).toISOString()).toBe('2024-03-01T12:34:56.789Z');
      expect(row['arr']).toEqual([instant, null]);
      expect(row['d']).toBe('2024-02-29');
      expect(row['darr']).toEqual(['2024-02-29']);
      expect(row['naive']).toBe('2024-03-01 12:00:00');
      expect(row['iv']).toBe('1 day 02:00:00');
      expect(row['inf']).toBe(Number.POSITIVE_INFINITY);
      expect(row['ninf']).toBe(Number.NEGATIVE_INFINITY);
    });

    it('reads instants right under any session zone, historic offsets and BC years included', async () => {
      const rows = await db.transaction(async (tx) => {
        // Seoul's local mean time was +08:27:52: an offset with seconds.
        await tx.query("SET LOCAL TimeZone = 'Asia/Seoul'");
        return (
          await tx.query<Record<string, Date>>(
            `SELECT '1850-01-01 00:00:00+00'::timestamptz AS lmt, '2024-03-01 00:00:00.5+00'::timestamptz AS modern,
                    '0044-03-15 12:00:00+00 BC'::timestamptz AS bc, '12345-01-01 00:00:00+00'::timestamptz AS far`,
          )
        ).rows;
      });
      const row = rows[0] ?? {};
      expect(row['lmt']?.toISOString()).toBe('1850-01-01T00:00:00.000Z');
      expect(row['modern']?.toISOString()).toBe('2024-03-01T00:00:00.500Z');
      expect(row['bc']?.toISOString()).toBe('-000043-03-15T12:00:00.000Z');
      expect(row['far']?.toISOString()).toBe('+012345-01-01T00:00:00.000Z');
      // SET LOCAL ended with the transaction.
      const { rows: after } = await db.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz");
      expect(after[0]?.tz).toBe('UTC');
    });

    it('round-trips booleans, int4, float8, bytea and jsonb', async () => {
      const bytes = new Uint8Array([0, 1, 127, 128, 255, 92, 34]);
      const { rows } = await db.query<Record<string, unknown>>(
        'SELECT $1::bool AS b, $2::int AS i, $3::float8 AS f, $4::bytea AS raw, $5::jsonb AS obj, $6::jsonb AS arr',
        [true, 2147483647, 0.1, bytes, { a: 1, s: 'ü"' }, JSON.stringify([1, 'x'])],
      );
      const row = rows[0] ?? {};
      expect(row['b']).toBe(true);
      expect(row['i']).toBe(2147483647);
      expect(row['f']).toBe(0.1);
      expect(row['raw']).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(row['raw'] as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
      expect(row['obj']).toEqual({ a: 1, s: 'ü"' });
      expect(row['arr']).toEqual([1, 'x']);
    });

    it('refuses parameters the two drivers would send differently', async () => {
      // An epoch number for a timestamptz, a bare array for jsonb: pg sends them as text that
      // PostgreSQL rejects, so PGlite must reject them as well.
      await expect(db.query('SELECT $1::timestamptz AS t', [Date.now()])).rejects.toThrow();
      await expect(db.query('SELECT $1::jsonb AS j', [[1, 2]])).rejects.toThrow();
    });
  });

  describe('statements and errors', () => {
    it('query() takes one statement; exec() takes scripts', async () => {
      await expect(db.query('SELECT 1; SELECT 2')).rejects.toThrow();
      await db.exec('CREATE TABLE conf_script (a INT); INSERT INTO conf_script VALUES (1), (2);');
      expect(await count(db, 'conf_script')).toBe(2);
    });

    it('reports rowCount for writes and reads', async () => {
      const ins = await db.query('INSERT INTO conf_script VALUES (3), (4), (5)');
      expect(ins.rowCount).toBe(3);
      const upd = await db.query('UPDATE conf_script SET a = a + 10 WHERE a > 2');
      expect(upd.rowCount).toBe(3);
      const sel = await db.query('SELECT * FROM conf_script');
      expect(sel.rowCount).toBe(5);
    });

    it('passes SQLSTATE codes through', async () => {
      await db.query('INSERT INTO conf_kv (id, title) VALUES (1, $1)', ['one']);
      await expect(db.query('INSERT INTO conf_kv (id, title) VALUES (1, $1)', ['dup'])).rejects.toMatchObject({
        code: '23505',
      });
      await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    });

    it('upserts a batch through unnest of array parameters', async () => {
      const ids = [INT8_MAX, '2', '3', '4', '5', '6'];
      const titles = ['max', 'comma, {brace}', 'quote " and \\ backslash', null, 'NULL', 'ünïcödé ✓'];
      const upsert = `
        INSERT INTO conf_kv (id, title)
        SELECT id, title FROM unnest($1::bigint[], $2::text[]) AS u(id, title)
        ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title`;
      const first = await db.query(upsert, [ids, titles]);
      expect(first.rowCount).toBe(ids.length);
      const changed = titles.map((title) => (title === null ? 'was null' : `${title}!`));
      await db.query(upsert, [ids, changed]);
      const { rows } = await db.query<{ id: string; title: string | null }>(
        'SELECT id, title FROM conf_kv WHERE id = ANY($1::bigint[]) ORDER BY id',
        [ids],
      );
      expect(rows).toEqual(
        ids
          .map((id, i) => ({ id, title: changed[i] ?? null }))
          .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)),
      );
      // The string 'NULL' stays a string, a null stays NULL.
      await db.query(upsert, [['5', '6'], ['NULL', null]]);
      const nulls = await db.query<{ id: string; title: string | null }>(
        'SELECT id, title FROM conf_kv WHERE id IN (5, 6) ORDER BY id',
      );
      expect(nulls.rows).toEqual([
        { id: '5', title: 'NULL' },
        { id: '6', title: null },
      ]);
    });
  });

  describe('transactions', () => {
    it('commits and returns the callback value', async () => {
      const value = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO conf_kv (id, title) VALUES (100, $1)', ['committed']);
        return 42;
      });
      expect(value).toBe(42);
      const { rows } = await db.query('SELECT title FROM conf_kv WHERE id = 100');
      expect(rows).toEqual([{ title: 'committed' }]);
    });

    it('rolls back when the callback throws and rethrows the same error', async () => {
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO conf_kv (id, title) VALUES (101, $1)', ['rolled back']);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await db.query('SELECT 1 FROM conf_kv WHERE id = 101')).rowCount).toBe(0);
    });

    it('rolls back explicitly-aborted work: a swallowed statement error fails the commit', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO conf_kv (id, title) VALUES (102, $1)', ['lost']);
          await tx.query('SELECT 1/0').catch(() => undefined);
        }),
      ).rejects.toThrow();
      expect((await db.query('SELECT 1 FROM conf_kv WHERE id = 102')).rowCount).toBe(0);
      // The database is still usable afterwards.
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('fails the transaction when COMMIT itself fails (a deferred constraint)', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, click_count, unique_sessions)
             VALUES ('2030-01-01T00:00:00Z', 1, 5, 3, 1), ('2030-01-01T00:00:00Z', 2, 5, 2, 1)`,
          );
        }),
      ).rejects.toMatchObject({ code: '23505' });
      const { rowCount } = await db.query("SELECT 1 FROM mart_realtime_top_docs_1h WHERE snapshot_ts = '2030-01-01T00:00:00Z'");
      expect(rowCount).toBe(0);
    });

    it('refuses a tx handle used after its transaction ended', async () => {
      let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked?.query('SELECT 1')).rejects.toThrow(/transaction already finished/);
    });

    it('runs scripts inside a transaction', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.exec('CREATE TABLE conf_tx_script (a INT); INSERT INTO conf_tx_script VALUES (1);');
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      await expect(db.query('SELECT * FROM conf_tx_script')).rejects.toMatchObject({ code: '42P01' });
    });

    it('never interleaves concurrent transactions on PGlite; commits both on pg', async () => {
      const events: string[] = [];
      const writer = (who: string) =>
        db.transaction(async (tx) => {
          events.push(`${who}:begin`);
          await tx.query('INSERT INTO conf_log (who, at_ms) VALUES ($1, $2)', [who, Date.now()]);
          await sleep(30);
          await tx.query('INSERT INTO conf_log (who, at_ms) VALUES ($1, $2)', [who, Date.now()]);
          events.push(`${who}:commit`);
        });
      // A reader outside both transactions: it must never see half of one.
      const reader = async (): Promise<number> => {
        await sleep(10);
        return count(db, 'conf_log');
      };
      const [, , seen] = await Promise.all([writer('a'), writer('b'), reader()]);
      expect(seen % 2).toBe(0);
      expect(await count(db, 'conf_log')).toBe(4);
      if (db.dialect === 'pglite') {
        expect(events).toEqual(['a:begin', 'a:commit', 'b:begin', 'b:commit']);
        // Each writer's rows are contiguous in insertion order.
        const { rows } = await db.query<{ who: string }>('SELECT who FROM conf_log ORDER BY seq');
        expect(rows.map((r) => r.who)).toEqual(['a', 'a', 'b', 'b']);
      } else {
        expect(events.filter((e) => e.endsWith(':commit')).sort()).toEqual(['a:commit', 'b:commit']);
      }
    });
  });

  describe('migrations', () => {
    it('created every table with the columns of the spec, at the current version', async () => {
      const files = await readMigrations();
      const { rows } = await db.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      expect(rows).toEqual(files.map((f) => ({ version: f.version, name: f.name })));

      const { rows: columns } = await db.query<{ table_name: string; column_name: string; type: string }>(
        `SELECT c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod) AS type
           FROM information_schema.columns c
           JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_name))::regclass AND a.attname = c.column_name
          WHERE c.table_schema = current_schema() AND c.table_name LIKE ANY (ARRAY['mart\\_%', 'anomaly_alerts'])
          ORDER BY c.table_name, c.ordinal_position`,
      );
      const byTable = new Map<string, Record<string, string>>();
      for (const c of columns) {
        const table = byTable.get(c.table_name) ?? {};
        table[c.column_name] = c.type;
        byTable.set(c.table_name, table);
      }
      const tz = 'timestamp with time zone';
      expect(byTable.get('mart_realtime_traffic_minute')).toEqual({
        event_minute: tz,
        total_clicks: 'integer',
        unique_sessions: 'integer',
        unique_docs: 'integer',
        is_final: 'boolean',
        updated_at: tz,
      });
      expect(byTable.get('mart_realtime_top_docs_1h')).toMatchObject({
        snapshot_ts: tz,
        rank: 'integer',
        document_id: 'bigint',
        title: 'character varying(1000)',
        click_count: 'integer',
        unique_sessions: 'integer',
      });
      expect(byTable.get('mart_realtime_clinical_trend_24h')).toMatchObject({
        snapshot_ts: tz,
        clinical_area: 'character varying(200)',
        click_count: 'integer',
        unique_sessions: 'integer',
        trend_pct: 'numeric(10,2)',
      });
      expect(byTable.get('mart_realtime_anomaly_sessions')).toMatchObject({
        detected_ts: tz,
        session_id: 'character varying(128)',
        window_start: tz,
        window_end: tz,
        click_count: 'integer',
        severity: 'character varying(8)',
      });
      // Exactly these, in this order (050: no computed_at, no alignment padding).
      expect(Object.entries(byTable.get('mart_session_analysis') ?? {})).toEqual([
        ['first_click_ts', tz],
        ['last_click_ts', tz],
        ['event_date', 'date'],
        ['click_count', 'integer'],
        ['unique_docs', 'integer'],
        ['session_duration_sec', 'integer'],
        ['session_id', 'character varying(128)'],
      ]);
      expect(byTable.get('mart_daily_traffic')).toMatchObject({
        event_date: 'date',
        total_events: 'integer',
        unique_sessions: 'integer',
        unique_documents: 'integer',
        peak_hour: 'integer',
      });
      expect(byTable.get('mart_clinical_areas')).toMatchObject({
        event_date: 'date',
        clinical_area: 'character varying(200)',
        search_count: 'integer',
        unique_sessions: 'integer',
      });
      expect(byTable.get('mart_popular_documents')).toMatchObject({
        event_date: 'date',
        document_id: 'bigint',
        title: 'character varying(1000)',
        view_count: 'integer',
        unique_sessions: 'integer',
      });
    });

    it('enforces the mart constraints', async () => {
      const topDoc = 'INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, click_count, unique_sessions) VALUES ($1, $2, $3, $4, $5)';
      const t0 = '2024-03-01T10:00:00Z';
      await expect(db.query(topDoc, [t0, 21, '1', 5, 1])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(topDoc, [t0, 0, '1', 5, 1])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(topDoc, [t0, 1, '1', -1, 0])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(topDoc, ['2024-03-01T10:00:30Z', 1, '1', 5, 1])).rejects.toMatchObject({ code: '23514' });
      await db.query(topDoc, [t0, 1, INT8_MAX, 5, 1]);
      // Two ranks swapped by one statement: the per-document uniqueness is checked at commit.
      await db.query(topDoc, [t0, 2, '7', 4, 1]);
      await db.query(
        `INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, click_count, unique_sessions)
         SELECT $1, r, d, c, 1 FROM unnest($2::int[], $3::bigint[], $4::int[]) AS u(r, d, c)
         ON CONFLICT (snapshot_ts, rank) DO UPDATE SET document_id = EXCLUDED.document_id, click_count = EXCLUDED.click_count`,
        [t0, [1, 2], ['7', INT8_MAX], [9, 8]],
      );
      const anomaly = `INSERT INTO mart_realtime_anomaly_sessions (detected_ts, session_id, window_start, window_end, click_count, severity)
                       VALUES ('2024-03-01T10:05:00Z', 's1', '2024-03-01T10:00:00Z', '2024-03-01T10:06:00Z', 60, $1)`;
      await expect(db.query(anomaly, ['INFO'])).rejects.toMatchObject({ code: '23514' });
      await db.query(anomaly, ['WARNING']);
      const daily = 'INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ($1, 10, 2, 3, $2)';
      await expect(db.query(daily, ['2024-03-01', 24])).rejects.toMatchObject({ code: '23514' });
      await db.query(daily, ['2024-03-01', 23]);
      await expect(
        db.query(
          "INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions, trend_pct) VALUES ($1, 'cardio', 0, 0, $2)",
          [t0, '-100.01'],
        ),
      ).rejects.toMatchObject({ code: '23514' });
    });

    it('keeps the session rows narrow: the key packed full, the checks of 001, full refresh staging alike', async () => {
      const { rows: key } = await db.query<{ options: string[] | null; columns: string[]; primary: boolean }>(
        `SELECT c.reloptions AS options, i.indisprimary AS primary,
                ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) AS k) AS columns
           FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = 'mart_session_analysis_pkey'`,
      );
      expect(key).toEqual([{ options: ['fillfactor=100'], primary: true, columns: ['event_date', 'session_id'] }]);
      const { rows: checks } = await db.query<{ name: string }>(
        `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'mart_session_analysis'::regclass AND contype = 'c' ORDER BY conname`,
      );
      expect(checks.map((c) => c.name)).toEqual([
        'mart_session_analysis_click_count_check',
        'mart_session_analysis_session_duration_sec_check',
        'mart_session_analysis_session_id_check',
        'mart_session_analysis_unique_docs_check',
        'session_click_order',
        'session_docs_le_clicks',
      ]);
      const insert = `INSERT INTO mart_session_analysis (session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts)
                      VALUES ($1, '2024-03-01', $2, $3, '2024-03-01T10:00:00Z', $4::timestamptz)`;
      await expect(db.query(insert, ['', 2, 1, '2024-03-01T10:01:00Z'])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(insert, ['s1', -1, 0, '2024-03-01T10:01:00Z'])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(insert, ['s1', 2, 3, '2024-03-01T10:01:00Z'])).rejects.toMatchObject({ code: '23514' });
      await expect(db.query(insert, ['s1', 2, 1, '2024-03-01T09:59:00Z'])).rejects.toMatchObject({ code: '23514' });
      await db.query(insert, ['s1', 2, 1, '2024-03-01T10:01:59.999Z']);
      await expect(db.query(insert, ['s1', 3, 1, '2024-03-01T10:01:00Z'])).rejects.toMatchObject({ code: '23505' });
      // The duration is the table's: whole seconds of last − first (a day counts 86,400 s), and no writer may set it.
      await db.query(insert, ['s2', 2, 1, '2024-03-02T10:00:01.5Z']);
      const { rows: durations } = await db.query<{ id: string; d: number }>(`SELECT session_id AS id, session_duration_sec AS d FROM mart_session_analysis ORDER BY 1`);
      expect(durations).toEqual([
        { id: 's1', d: 119 },
        { id: 's2', d: 86_401 },
      ]);
      await expect(
        db.query(`INSERT INTO mart_session_analysis (session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts, session_duration_sec)
                  VALUES ('s3', '2024-03-01', 1, 1, '2024-03-01T10:00:00Z', '2024-03-01T10:00:00Z', 0)`),
      ).rejects.toMatchObject({ code: '428C9' });
      await db.query(`DELETE FROM mart_session_analysis`);

      const columnsOf = async (table: string): Promise<string[]> =>
        (
          await db.query<{ c: string }>(
            `SELECT column_name::text AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
            [table],
          )
        ).rows.map((r) => r.c);
      expect(await columnsOf('cold_refresh_session_analysis')).toEqual(['refresh_id', ...(await columnsOf('mart_session_analysis'))]);
    });

    it('rebuilds stored session rows in the narrow layout without losing or changing one (050)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tidemark-migrations-'));
      const fresh = await factory.create({ migrate: false });
      try {
        const files = await readMigrations();
        for (const file of files.filter((f) => f.version < 50)) await writeFile(join(dir, file.name), file.sql);
        await migrate(fresh.db, { dir });
        const sessions = `(session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts, session_duration_sec, computed_at)`;
        await fresh.db.query(
          `INSERT INTO mart_session_analysis ${sessions}
           SELECT 's-' || (1000000 + i), DATE '2026-05-12' + (i % 3), i % 7, i % 7, TIMESTAMPTZ '2026-05-12T00:00:00Z' + i * interval '1 second',
                  TIMESTAMPTZ '2026-05-12T00:00:00Z' + i * interval '2 second', i, TIMESTAMPTZ '2026-05-13T02:00:00Z'
           FROM generate_series(1, 3000) AS i`,
        );
        const snapshot = `SELECT session_id, event_date::text AS d, click_count, unique_docs, first_click_ts, last_click_ts, session_duration_sec
                            FROM mart_session_analysis ORDER BY event_date, session_id`;
        const before = (await fresh.db.query(snapshot)).rows;
        expect(before).toHaveLength(3000);
        // A grant made by hand (the test role cannot create roles: PUBLIC stands in for a reader).
        await fresh.db.query(`GRANT SELECT, REFERENCES ON mart_session_analysis TO PUBLIC`);

        expect(await migrate(fresh.db)).toEqual({ applied: files.filter((f) => f.version >= 50).map((f) => f.name) });
        expect((await fresh.db.query(snapshot)).rows).toEqual(before);
        const { rows: granted } = await fresh.db.query<{ p: string }>(
          `SELECT a.privilege_type AS p FROM pg_class c, aclexplode(c.relacl) AS a
            WHERE c.oid = 'mart_session_analysis'::regclass AND a.grantee = 0 ORDER BY 1`,
        );
        expect(granted).toEqual([{ p: 'REFERENCES' }, { p: 'SELECT' }]);
        expect(
          (await fresh.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'mart\\_session\\_analysis\\_wide%'`)).rows,
        ).toEqual([{ n: 0 }]);
      } finally {
        await fresh.dispose();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('keeps dead letters idempotent per source position', async () => {
      const insert = `INSERT INTO dead_letter_events (source, kafka_partition, kafka_offset, raw_bytes, reason, detail)
                      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, kafka_partition, kafka_offset) DO NOTHING`;
      const params = ['kafka:curated.events', 3, INT8_MAX, new Uint8Array([0xff, 0xfe]), 'invalid_encoding', 'bad utf-8'];
      expect((await db.query(insert, params)).rowCount).toBe(1);
      expect((await db.query(insert, params)).rowCount).toBe(0);
      const { rows } = await db.query<{ kafka_offset: string; received_at: Date }>(
        'SELECT kafka_offset, received_at FROM dead_letter_events',
      );
      expect(rows[0]?.kafka_offset).toBe(INT8_MAX);
      expect(rows[0]?.received_at).toBeInstanceOf(Date);
    });

    it('applies nothing the second time', async () => {
      expect(await migrate(db)).toEqual({ applied: [] });
    });

    it('applies every file once on a fresh database, even with two migrators racing', async () => {
      const fresh = await factory.create({ migrate: false });
      // On pg the second migrator is another pool: a separate process as far as locks go.
      const other = fresh.url === undefined ? fresh.db : createPgDatabase(fresh.url, { max: 2 });
      try {
        const started = performance.now();
        const [a, b] = await Promise.all([migrate(fresh.db), migrate(other)]);
        const ms = performance.now() - started;
        const names = (await readMigrations()).map((f) => f.name);
        expect([...a.applied, ...b.applied].sort()).toEqual(names);
        expect(await migrate(fresh.db)).toEqual({ applied: [] });
        console.info(`[${factory.label}] migrate of ${names.join(', ')} took ${ms.toFixed(0)} ms`);
      } finally {
        if (other !== fresh.db) await other.close();
        await fresh.dispose();
      }
    });

    it('refuses to run when an applied file changed, before applying anything new', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tidemark-migrations-'));
      const fresh = await factory.create({ migrate: false });
      try {
        await writeFile(join(dir, '001_first.sql'), 'CREATE TABLE conf_m1 (a INT);\n');
        expect(await migrate(fresh.db, { dir })).toEqual({ applied: ['001_first.sql'] });
        // Line endings alone are not a change.
        await writeFile(join(dir, '001_first.sql'), 'CREATE TABLE conf_m1 (a INT);\r\n');
        expect(await migrate(fresh.db, { dir })).toEqual({ applied: [] });

        await writeFile(join(dir, '001_first.sql'), 'CREATE TABLE conf_m1 (a BIGINT);\n');
        await writeFile(join(dir, '002_second.sql'), 'CREATE TABLE conf_m2 (a INT);\n');
        const failure = migrate(fresh.db, { dir });
        await expect(failure).rejects.toBeInstanceOf(MigrationError);
        await expect(failure).rejects.toThrow(/001_first\.sql was changed after it was applied/);
        await expect(fresh.db.query('SELECT * FROM conf_m2')).rejects.toMatchObject({ code: '42P01' });

        // A failing file leaves neither its effects nor its record behind.
        await writeFile(join(dir, '001_first.sql'), 'CREATE TABLE conf_m1 (a INT);\n');
        await writeFile(join(dir, '002_second.sql'), 'CREATE TABLE conf_m2 (a INT);\nSELECT 1/0;\n');
        await expect(migrate(fresh.db, { dir })).rejects.toMatchObject({ code: '22012' });
        await expect(fresh.db.query('SELECT * FROM conf_m2')).rejects.toMatchObject({ code: '42P01' });
        expect(await count(fresh.db, 'schema_migrations')).toBe(1);
      } finally {
        await fresh.dispose();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('ships migrations that are named and checksummed consistently', async () => {
      const files = await readMigrations(DEFAULT_MIGRATIONS_DIR);
      expect(files[0]?.name).toBe('001_marts.sql');
      const text = await readFile(new URL('001_marts.sql', DEFAULT_MIGRATIONS_DIR), 'utf8');
      expect(files[0]?.sql).toBe(text);
    });
  });
}

for (const factory of testDatabaseFactories()) {
  describe(`database conformance: ${factory.label}`, () => {
    conformanceSuite(factory);
  });
}
