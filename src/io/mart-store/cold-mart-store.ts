// The cold marts (SPEC §5) in PostgreSQL: replace one event_date's rows, read them back, count
// them. Rows cross as the shared types of src/marts/types.ts; dates as 'YYYY-MM-DD' text.
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../hot-sink/timestamps.ts';
import type { ColdMartChunks, ColdMartRows, SessionAnalysisRow } from '../../marts/types.ts';
import { BinaryCopyBuffer } from './copy-binary.ts';

export const COLD_TABLES = ['mart_session_analysis', 'mart_daily_traffic', 'mart_clinical_areas', 'mart_popular_documents'] as const;
export type ColdTable = (typeof COLD_TABLES)[number];

/** Rows per INSERT statement: large enough to be bulk, small enough to keep one bind message modest. */
export const INSERT_CHUNK = 20_000;

/**
 * Every cold write (a day's replace, a full refresh's table swap) holds this transaction lock, so
 * two recomputes of one day cannot interleave their DELETE and INSERT (the second INSERT would
 * hit the first one's keys).
 */
export async function lockColdMarts(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tidemark:cold-marts'))`);
}

export async function deleteColdDay(tx: Queryable, date: string): Promise<Record<ColdTable, number>> {
  const deleted = {} as Record<ColdTable, number>;
  // The table names come from the constant list above, never from input.
  for (const table of COLD_TABLES) deleted[table] = (await tx.query(`DELETE FROM ${table} WHERE event_date = $1::date`, [date])).rowCount;
  return deleted;
}

/** Where insertColdRows writes: the marts themselves, or full refresh's staging tables tagged with a refresh id. */
export interface ColdInsertTarget {
  readonly tables: Readonly<Record<ColdTable, string>>;
  readonly refreshId: string;
}

/** Column name, its SQL type for the unnest array, and how a row gives its value. */
type Columns<R> = readonly (readonly [name: string, sqlType: string, value: (row: R) => unknown])[];

/**
 * INSERT … SELECT FROM unnest($1::type[], …) AS x(columns…) in chunks of INSERT_CHUNK rows; the
 * unnest aliases are the column names, so the statement reads like the table. The names come
 * from the constant column lists below, never from input.
 */
async function insertColumns<R>(
  tx: Queryable,
  table: string,
  rows: readonly R[],
  columns: Columns<R>,
  refreshId: string | undefined,
): Promise<void> {
  const names = columns.map(([name]) => name).join(', ');
  const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  const tag = refreshId === undefined ? { column: '', value: '' } : { column: 'refresh_id, ', value: `$${columns.length + 1}, ` };
  const sql = `INSERT INTO ${table} (${tag.column}${names}, computed_at) SELECT ${tag.value}${names}, now() FROM unnest(${arrays}) AS x(${names})`;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = columns.map(([, , value]) => chunk.map(value));
    if (refreshId !== undefined) params.push(refreshId);
    await tx.query(sql, params);
  }
}

const SESSION_COLUMNS: Columns<SessionAnalysisRow> = [
  ['session_id', 'text', (r) => r.sessionId],
  ['event_date', 'date', (r) => r.eventDate],
  ['click_count', 'int', (r) => r.clickCount],
  ['unique_docs', 'int', (r) => r.uniqueDocs],
  ['first_click_ts', 'timestamptz', (r) => toSqlTimestamp(r.firstClickTs)],
  ['last_click_ts', 'timestamptz', (r) => toSqlTimestamp(r.lastClickTs)],
  ['session_duration_sec', 'int', (r) => r.sessionDurationSec],
];

/**
 * The session rows in COPY's binary format, one buffer per chunk of rows (the first also holds
 * the header, a last one the trailer); the columns are SESSION_COLUMNS' (after refresh_id when
 * there is one). Made as COPY sends them, so one chunk's bytes are in memory.
 */
function* sessionCopyBinary(chunks: Iterable<readonly SessionAnalysisRow[]>, refreshId: string | undefined): Generator<Buffer> {
  const out = new BinaryCopyBuffer();
  const fields = SESSION_COLUMNS.length + (refreshId === undefined ? 0 : 1);
  out.header();
  for (const chunk of chunks) {
    for (const r of chunk) {
      out.row(fields);
      if (refreshId !== undefined) out.text(refreshId);
      out.text(r.sessionId);
      out.date(r.eventDate);
      out.int4(r.clickCount);
      out.int4(r.uniqueDocs);
      out.timestamptz(r.firstClickTs);
      out.timestamptz(r.lastClickTs);
      out.int4(r.sessionDurationSec);
    }
    yield out.take();
  }
  out.trailer();
  yield out.take();
}

/**
 * Bulk-inserts cold rows into the marts, or into the staging tables of `target`. The session
 * rows (a whole day's, or chunks of them made while they are written) go through COPY where
 * the database offers it, else through INSERT … unnest like the other marts' few rows.
 */
export async function insertColdRows(tx: Queryable, rows: ColdMartRows | ColdMartChunks, target?: ColdInsertTarget): Promise<void> {
  const table = (t: ColdTable): string => target?.tables[t] ?? t;
  const refreshId = target?.refreshId;
  const sessionChunks = 'sessionChunks' in rows ? rows.sessionChunks : [rows.sessionAnalysis];
  if (tx.copyFrom !== undefined) {
    const columns = SESSION_COLUMNS.map(([name]) => name);
    const target = refreshId === undefined ? columns : ['refresh_id', ...columns];
    await tx.copyFrom(table('mart_session_analysis'), target, sessionCopyBinary(sessionChunks, refreshId), 'binary');
  } else {
    for (const chunk of sessionChunks) await insertColumns(tx, table('mart_session_analysis'), chunk, SESSION_COLUMNS, refreshId);
  }
  await insertColumns(tx, table('mart_daily_traffic'), rows.dailyTraffic, [
    ['event_date', 'date', (r) => r.eventDate],
    ['total_events', 'int', (r) => r.totalEvents],
    ['unique_sessions', 'int', (r) => r.uniqueSessions],
    ['unique_documents', 'int', (r) => r.uniqueDocuments],
    ['peak_hour', 'int', (r) => r.peakHour],
  ], refreshId);
  await insertColumns(tx, table('mart_clinical_areas'), rows.clinicalAreas, [
    ['event_date', 'date', (r) => r.eventDate],
    ['clinical_area', 'text', (r) => r.clinicalArea],
    ['search_count', 'int', (r) => r.searchCount],
    ['unique_sessions', 'int', (r) => r.uniqueSessions],
  ], refreshId);
  await insertColumns(tx, table('mart_popular_documents'), rows.popularDocuments, [
    ['event_date', 'date', (r) => r.eventDate],
    ['document_id', 'bigint', (r) => r.documentId],
    ['title', 'text', (r) => r.title],
    ['view_count', 'int', (r) => r.viewCount],
    ['unique_sessions', 'int', (r) => r.uniqueSessions],
  ], refreshId);
}

/** The stored cold rows of the given dates (all dates when omitted), ordered like evaluateColdMarts. */
export async function readColdRows(db: Queryable, dates?: readonly string[]): Promise<ColdMartRows> {
  const where = dates === undefined ? 'true' : 'event_date = ANY($1::date[])';
  const params = dates === undefined ? [] : [dates];
  const sessions = await db.query<{ s: string; d: string; c: number; u: number; f: unknown; l: unknown; du: number }>(
    `SELECT session_id AS s, event_date::text AS d, click_count AS c, unique_docs AS u, ${epochMs('first_click_ts')} AS f,
            ${epochMs('last_click_ts')} AS l, session_duration_sec AS du
       FROM mart_session_analysis WHERE ${where} ORDER BY event_date, session_id COLLATE "C"`,
    params,
  );
  const daily = await db.query<{ d: string; t: number; s: number; u: number; p: number }>(
    `SELECT event_date::text AS d, total_events AS t, unique_sessions AS s, unique_documents AS u, peak_hour AS p
       FROM mart_daily_traffic WHERE ${where} ORDER BY event_date`,
    params,
  );
  const areas = await db.query<{ d: string; a: string; c: number; s: number }>(
    `SELECT event_date::text AS d, clinical_area AS a, search_count AS c, unique_sessions AS s
       FROM mart_clinical_areas WHERE ${where} ORDER BY event_date, clinical_area COLLATE "C"`,
    params,
  );
  const docs = await db.query<{ d: string; i: string; t: string | null; v: number; s: number }>(
    `SELECT event_date::text AS d, document_id::text AS i, title AS t, view_count AS v, unique_sessions AS s
       FROM mart_popular_documents WHERE ${where} ORDER BY event_date, document_id`,
    params,
  );
  return {
    sessionAnalysis: sessions.rows.map((r) => ({
      sessionId: r.s,
      eventDate: r.d,
      clickCount: r.c,
      uniqueDocs: r.u,
      firstClickTs: fromSqlEpoch(r.f),
      lastClickTs: fromSqlEpoch(r.l),
      sessionDurationSec: r.du,
    })),
    dailyTraffic: daily.rows.map((r) => ({ eventDate: r.d, totalEvents: r.t, uniqueSessions: r.s, uniqueDocuments: r.u, peakHour: r.p })),
    clinicalAreas: areas.rows.map((r) => ({ eventDate: r.d, clinicalArea: r.a, searchCount: r.c, uniqueSessions: r.s })),
    popularDocuments: docs.rows.map((r) => ({ eventDate: r.d, documentId: r.i, title: r.t, viewCount: r.v, uniqueSessions: r.s })),
  };
}

/** Row counts per cold table for each of the dates that has rows. */
export async function coldRowCounts(db: Queryable, dates: readonly string[]): Promise<Map<string, Partial<Record<ColdTable, number>>>> {
  const counts = new Map<string, Partial<Record<ColdTable, number>>>();
  for (const table of COLD_TABLES) {
    const result = await db.query<{ d: string; n: number }>(
      `SELECT event_date::text AS d, count(*)::int AS n FROM ${table} WHERE event_date = ANY($1::date[]) GROUP BY event_date`,
      [dates],
    );
    for (const row of result.rows) counts.set(row.d, { ...counts.get(row.d), [table]: row.n });
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
