// The hot marts of one local day as reconcile sees them (SPEC §6.3): read the rows keyed in
// [dayStart, dayEnd), and replace them with recomputed, final rows. Row shapes are those of
// src/marts/types.ts, as the reference evaluator produces them; which marts, tables and columns
// comes from the mart registry.
import type { Queryable } from '../db/database.ts';
import { toSqlTimestamp } from '../hot-sink/timestamps.ts';
import { hotLocks, hotMarts, MART_REGISTRY, rowsOf } from '../../marts/mart-registry.ts';
import type { MartRegistry } from '../../marts/mart-registry.ts';
import type { HotMartRows } from '../../marts/types.ts';
import { insertMartRows, readMartRows } from './mart-sql.ts';

const inRange = (column: string): string => `${column} >= $1::timestamptz AND ${column} < $2::timestamptz`;

/** Every hot mart's rows keyed in [from, to), ordered by key, under the marts' ids. */
export async function readHotRows(db: Queryable, from: number, to: number, registry: MartRegistry = MART_REGISTRY): Promise<HotMartRows> {
  const range = [toSqlTimestamp(from), toSqlTimestamp(to)];
  const rows: Record<string, object[]> = {};
  for (const mart of hotMarts(registry)) rows[mart.id] = await readMartRows(db, mart, inRange(mart.timeColumn), range);
  return rows as unknown as HotMartRows;
}

/**
 * The same transaction locks the hot sink takes before it rewrites a mart's rows
 * (src/io/hot-sink/hot-mart-sink.ts), in the same order, so a stream commit in flight and a
 * reconcile replace run one after the other, never interleaved.
 */
export async function lockHotMarts(tx: Queryable, registry: MartRegistry = MART_REGISTRY): Promise<void> {
  for (const lock of hotLocks(registry)) await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [lock]);
}

/** Deletes the day's hot rows and inserts `rows` as final. Call inside a transaction, after lockHotMarts. */
export async function replaceHotRows(tx: Queryable, from: number, to: number, rows: HotMartRows, registry: MartRegistry = MART_REGISTRY): Promise<void> {
  const range = [toSqlTimestamp(from), toSqlTimestamp(to)];
  const marts = hotMarts(registry);
  for (const mart of marts) await tx.query(`DELETE FROM ${mart.table} WHERE ${inRange(mart.timeColumn)}`, range);
  for (const mart of marts) {
    await insertMartRows(tx, mart, mart.table, rowsOf(rows, mart), [
      ['is_final', 'true'],
      ['updated_at', 'now()'],
    ]);
  }
}

/** Row counts of each hot table in [from, to). */
export async function hotRowCounts(db: Queryable, from: number, to: number, registry: MartRegistry = MART_REGISTRY): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const mart of hotMarts(registry)) {
    const result = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${mart.table} WHERE ${inRange(mart.timeColumn)}`, [
      toSqlTimestamp(from),
      toSqlTimestamp(to),
    ]);
    out[mart.table] = result.rows[0]?.n ?? 0;
  }
  return out;
}
