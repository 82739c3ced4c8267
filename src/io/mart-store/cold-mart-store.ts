// The cold marts (SPEC §5) in PostgreSQL: replace one event_date's rows, read them back, count
// them. Rows cross as the shared types of src/marts/types.ts; dates as 'YYYY-MM-DD' text. Which
// marts, tables and columns comes from the mart registry.
import type { Queryable } from '../db/database.ts';
import { coldMarts, coldTables, MART_REGISTRY, rowsOf, writtenColumns } from '../../marts/mart-registry.ts';
import type { ColdMartDefinition, MartRegistry } from '../../marts/mart-registry.ts';
import type { ColdMartChunks, ColdMartRows } from '../../marts/types.ts';
import { insertMartRows, martCopyBinary, readMartRows } from './mart-sql.ts';
import type { FixedColumns } from './mart-sql.ts';

/** The cold tables of the real registry, in its order. */
export const COLD_TABLES: readonly string[] = coldTables();

/**
 * Every cold write (a day's replace, a full refresh's table swap) holds this transaction lock, so
 * two recomputes of one day cannot interleave their DELETE and INSERT (the second INSERT would
 * hit the first one's keys).
 */
export async function lockColdMarts(tx: Queryable, registry: MartRegistry = MART_REGISTRY): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [registry.coldLock]);
}

/** Deletes one date's rows of every cold mart; rows deleted per table. */
export async function deleteColdDay(tx: Queryable, date: string, registry: MartRegistry = MART_REGISTRY): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const mart of coldMarts(registry)) {
    deleted[mart.table] = (await tx.query(`DELETE FROM ${mart.table} WHERE ${mart.dateColumn} = $1::date`, [date])).rowCount;
  }
  return deleted;
}

/** Where insertColdRows writes: the marts themselves, or full refresh's staging tables tagged with a refresh id. */
export interface ColdInsertTarget {
  /** Cold table → the table to write instead (stagingTables of the registry). */
  readonly tables: Readonly<Record<string, string>>;
  readonly refreshId: string;
}

/**
 * A cold mart's rows of `rows` as chunks: a bulk mart of ColdMartChunks brings its own (made
 * while they are written), any other mart is one chunk.
 */
function chunksOf(rows: ColdMartRows | ColdMartChunks, mart: ColdMartDefinition): Iterable<readonly object[]> {
  const chunks = mart.bulk === undefined ? undefined : (rows as unknown as Readonly<Record<string, unknown>>)[mart.bulk.chunks];
  return chunks === undefined ? [rowsOf(rows, mart)] : (chunks as Iterable<readonly object[]>);
}

/** How many rows of a cold mart `rows` holds, without making a bulk mart's chunks. */
export function coldRowCount(rows: ColdMartRows | ColdMartChunks, mart: ColdMartDefinition): number {
  const count = mart.bulk === undefined ? undefined : (rows as unknown as Readonly<Record<string, unknown>>)[mart.bulk.count];
  return typeof count === 'number' ? count : rowsOf(rows, mart).length;
}

/** Row counts per cold table of a day's computed rows. */
export function countColdRows(rows: ColdMartRows | ColdMartChunks, registry: MartRegistry = MART_REGISTRY): Record<string, number> {
  return Object.fromEntries(coldMarts(registry).map((mart) => [mart.table, coldRowCount(rows, mart)]));
}

/**
 * Bulk-inserts cold rows into the marts, or into the staging tables of `target`. A bulk mart's
 * rows (a whole day's, or chunks of them made while they are written) go through COPY where the
 * database offers it, else through INSERT … unnest like the other marts' few rows.
 */
export async function insertColdRows(
  tx: Queryable,
  rows: ColdMartRows | ColdMartChunks,
  target?: ColdInsertTarget,
  registry: MartRegistry = MART_REGISTRY,
): Promise<void> {
  const refreshId = target?.refreshId;
  for (const mart of coldMarts(registry)) {
    const table = target?.tables[mart.table] ?? mart.table;
    if (mart.bulk !== undefined && tx.copyFrom !== undefined) {
      const columns = writtenColumns(mart).map((c) => c.column);
      const leading = refreshId === undefined ? [] : [refreshId];
      await tx.copyFrom(table, refreshId === undefined ? columns : ['refresh_id', ...columns], martCopyBinary(mart, chunksOf(rows, mart), leading), 'binary');
      continue;
    }
    const fixed: FixedColumns = [
      ...(refreshId === undefined ? [] : ([['refresh_id', '$p']] as const)),
      ...(mart.computedAt ? ([['computed_at', 'now()']] as const) : []),
    ];
    for (const chunk of chunksOf(rows, mart)) await insertMartRows(tx, mart, table, chunk, fixed, refreshId);
  }
}

/** The stored cold rows of the given dates (all dates when omitted), ordered like evaluateColdMarts. */
export async function readColdRows(db: Queryable, dates?: readonly string[], registry: MartRegistry = MART_REGISTRY): Promise<ColdMartRows> {
  const out: Record<string, object[]> = {};
  for (const mart of coldMarts(registry)) {
    const where = dates === undefined ? 'true' : `${mart.dateColumn} = ANY($1::date[])`;
    out[mart.id] = await readMartRows(db, mart, where, dates === undefined ? [] : [dates]);
  }
  return out as unknown as ColdMartRows;
}

/** Row counts per cold table for each of the dates that has rows. */
export async function coldRowCounts(
  db: Queryable,
  dates: readonly string[],
  registry: MartRegistry = MART_REGISTRY,
): Promise<Map<string, Partial<Record<string, number>>>> {
  const counts = new Map<string, Partial<Record<string, number>>>();
  for (const mart of coldMarts(registry)) {
    const result = await db.query<{ d: string; n: number }>(
      `SELECT ${mart.dateColumn}::text AS d, count(*)::int AS n FROM ${mart.table} WHERE ${mart.dateColumn} = ANY($1::date[]) GROUP BY ${mart.dateColumn}`,
      [dates],
    );
    for (const row of result.rows) counts.set(row.d, { ...counts.get(row.d), [mart.table]: row.n });
  }
  return counts;
}

/** lake_days bookkeeping of a replaced day: computed now, no longer dirty. */
export async function markDayComputed(tx: Queryable, date: string): Promise<void> {
  await tx.query(
    `INSERT INTO lake_days (event_date, cold_computed_at, dirty_since) VALUES ($1::date, now(), NULL)
     ON CONFLICT (event_date) DO UPDATE SET cold_computed_at = now(), dirty_since = NULL`,
    [date],
  );
}
