// The mart registry against real databases (PGlite and the PostgreSQL server): every mart it
// defines matches the migrated schema column for column (so the two cannot drift apart), and the
// stores, the staging insert and retention handle a registry with a throwaway fifth hot mart and
// another cold mart — given only their definitions and tables — exactly like the real marts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coldRowCounts, deleteColdDay, insertColdRows, lockColdMarts, readColdRows } from '../../src/io/mart-store/cold-mart-store.ts';
import { hotRowCounts, lockHotMarts, readHotRows, replaceHotRows } from '../../src/io/mart-store/hot-mart-store.ts';
import { createLogger } from '../../src/io/log.ts';
import { runRetention } from '../../src/jobs/retention.ts';
import { martColumns, MART_REGISTRY, stagingTables } from '../../src/marts/mart-registry.ts';
import type { SqlType } from '../../src/marts/mart-registry.ts';
import { DAY, FIXTURE, FIXTURE_COLD, FIXTURE_DDL, FIXTURE_HOT, MINUTE } from '../fixtures/extra-marts.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const SQL_TYPES: Record<SqlType, readonly string[]> = {
  text: ['text', 'character varying'],
  int: ['integer'],
  bigint: ['bigint'],
  numeric: ['numeric'],
  date: ['date'],
  timestamptz: ['timestamp with time zone'],
};
// Bookkeeping columns the stores set themselves, not part of a mart's definition.
const BOOKKEEPING = new Set(['is_final', 'updated_at', 'computed_at']);
const DAY_MS = 86_400_000;

for (const factory of testDatabaseFactories()) {
  describe(`mart registry on ${factory.label}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await factory.create();
      await t.db.exec(FIXTURE_DDL);
    });
    afterAll(async () => {
      await t.dispose();
    });

    async function columnsOf(table: string): Promise<Map<string, string>> {
      const { rows } = await t.db.query<{ c: string; t: string }>(
        `SELECT column_name::text AS c, data_type::text AS t FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
        [table],
      );
      return new Map(rows.map((r) => [r.c, r.t]));
    }

    async function primaryKeyOf(table: string): Promise<string[]> {
      const { rows } = await t.db.query<{ c: string }>(
        `SELECT a.attname::text AS c FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = k.attnum
          WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n`,
        [table],
      );
      return rows.map((r) => r.c);
    }

    /** Columns the table computes (generated, stored or virtual). */
    async function generatedOf(table: string): Promise<string[]> {
      const { rows } = await t.db.query<{ c: string }>(
        `SELECT attname::text AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated <> '' ORDER BY 1`,
        [table],
      );
      return rows.map((r) => r.c);
    }

    it('defines every mart as the migrations made it: columns, types, primary key and staging tables', async () => {
      for (const mart of MART_REGISTRY.marts) {
        const columns = await columnsOf(mart.table);
        const defined = martColumns(mart);
        expect([...columns.keys()].filter((c) => !BOOKKEEPING.has(c)).sort(), mart.table).toEqual(defined.map((c) => c.column).sort());
        for (const { column, type } of defined) expect(SQL_TYPES[type], `${mart.table}.${column}`).toContain(columns.get(column));
        expect(await primaryKeyOf(mart.table), mart.table).toEqual(mart.key.map((c) => c.column));
        // Writers leave out exactly the columns the table generates.
        expect(await generatedOf(mart.table), mart.table).toEqual(defined.filter((c) => c.generated === true).map((c) => c.column).sort());
        if (mart.kind === 'cold') {
          expect(await generatedOf(mart.staging), mart.staging).toEqual(await generatedOf(mart.table));
          // The stores write computed_at exactly where the table has it (050 dropped the sessions').
          expect(columns.has('computed_at'), `${mart.table}.computed_at`).toBe(mart.computedAt);
          const staged = await columnsOf(mart.staging);
          expect([...staged.keys()].sort(), mart.staging).toEqual(['refresh_id', ...columns.keys()].sort());
        }
      }
    });

    it('stores, reads and counts the rows of the fixture registry, the extra marts included', async () => {
      const from = Date.UTC(2026, 2, 8);
      const to = from + DAY_MS;
      await t.db.transaction(async (tx) => {
        await lockHotMarts(tx, FIXTURE);
        await replaceHotRows(tx, from, to, FIXTURE_HOT, FIXTURE);
      });
      // Read back sorted by key: 'email' before 'search'.
      expect(await readHotRows(t.db, from, to, FIXTURE)).toEqual({ ...FIXTURE_HOT, referrers: [...FIXTURE_HOT.referrers].reverse() });
      const { rows: finals } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM mart_realtime_referrer_minute WHERE is_final`);
      expect(finals[0]?.n).toBe(2);
      expect(await hotRowCounts(t.db, from, to, FIXTURE)).toEqual({
        mart_realtime_traffic_minute: 1,
        mart_realtime_top_docs_1h: 0,
        mart_realtime_clinical_trend_24h: 0,
        mart_realtime_anomaly_sessions: 0,
        mart_realtime_referrer_minute: 2,
      });

      await t.db.transaction(async (tx) => {
        await lockColdMarts(tx, FIXTURE);
        await insertColdRows(tx, FIXTURE_COLD, undefined, FIXTURE);
      });
      expect(await readColdRows(t.db, [DAY], FIXTURE)).toEqual(FIXTURE_COLD);
      expect(await coldRowCounts(t.db, [DAY], FIXTURE)).toEqual(
        new Map([[DAY, { mart_session_analysis: 1, mart_daily_traffic: 1, mart_clinical_areas: 1, mart_popular_documents: 2, mart_weekly_areas: 1 }]]),
      );

      // Full refresh's staging insert, tagged with the refresh id.
      await insertColdRows(t.db, FIXTURE_COLD, { tables: stagingTables(FIXTURE), refreshId: 'r1' }, FIXTURE);
      const { rows: staged } = await t.db.query<{ r: string; d: string; a: string; c: number; i: string; ti: string | null }>(
        `SELECT refresh_id AS r, event_date::text AS d, clinical_area AS a, week_clicks AS c, top_document_id::text AS i, top_title AS ti FROM cold_refresh_weekly_areas`,
      );
      expect(staged).toEqual([{ r: 'r1', d: DAY, a: 'cardiology', c: 3, i: '9223372036854775807', ti: null }]);
      const { rows: stagedSessions } = await t.db.query<{ r: string; s: string }>(`SELECT refresh_id AS r, session_id AS s FROM cold_refresh_session_analysis`);
      expect(stagedSessions).toEqual([{ r: 'r1', s: 's1' }]);

      expect(await t.db.transaction((tx) => deleteColdDay(tx, DAY, FIXTURE))).toEqual({
        mart_session_analysis: 1,
        mart_daily_traffic: 1,
        mart_clinical_areas: 1,
        mart_popular_documents: 2,
        mart_weekly_areas: 1,
      });
    });

    it('ages the extra hot mart out with the others', async () => {
      const deps = { db: t.db, clock: () => MINUTE + 8 * DAY_MS, log: createLogger('error') };
      const dryRun = await runRetention(deps, { hotRetentionDays: 7, dryRun: true, registry: FIXTURE });
      expect(dryRun).toEqual({
        mart_realtime_traffic_minute: 1,
        mart_realtime_top_docs_1h: 0,
        mart_realtime_clinical_trend_24h: 0,
        mart_realtime_anomaly_sessions: 0,
        mart_realtime_referrer_minute: 2,
        dead_letter_events: 0,
        late_events: 0,
        anomaly_alerts: 0,
      });
      expect(await runRetention(deps, { hotRetentionDays: 7, dryRun: false, registry: FIXTURE })).toEqual(dryRun);
      const { rows } = await t.db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM mart_realtime_referrer_minute)::int AS n`,
      );
      expect(rows[0]?.n).toBe(0);
    });
  });
}
