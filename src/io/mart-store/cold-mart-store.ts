// The cold marts (SPEC §5) in PostgreSQL: replace one event_date's rows, read them back, count
// them. Rows cross as the shared types of src/marts/types.ts; dates as 'YYYY-MM-DD' text.
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../hot-sink/timestamps.ts';
import type { ColdMartRows } from '../../marts/types.ts';

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

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) out.push(rows.slice(i, i + INSERT_CHUNK));
  return out;
}

/**
 * Bulk-inserts cold rows with unnest arrays. `table` names the target: the mart itself, or a
 * table with the same columns (full refresh's staging); `extra` adds one constant column first.
 */
export async function insertColdRows(tx: Queryable, rows: ColdMartRows, target: (table: ColdTable) => string = (t) => t, extra?: { column: string; value: string }): Promise<void> {
  const col = extra === undefined ? '' : `${extra.column}, `;
  const val = extra === undefined ? '' : `$0, `;
  const bind = (params: unknown[]): unknown[] => (extra === undefined ? params : [...params, extra.value]);
  // With an extra column, $0 is rewritten to the last parameter's number.
  const sql = (text: string, n: number): string => (extra === undefined ? text : text.replace('$0', `$${n + 1}`));
  for (const c of chunks(rows.sessionAnalysis)) {
    await tx.query(
      sql(`INSERT INTO ${target('mart_session_analysis')} (${col}session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts, session_duration_sec, computed_at)
       SELECT ${val}s, d, c, u, f, l, du, now() FROM unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::int[]) AS x(s, d, c, u, f, l, du)`, 7),
      bind([
        c.map((r) => r.sessionId),
        c.map((r) => r.eventDate),
        c.map((r) => r.clickCount),
        c.map((r) => r.uniqueDocs),
        c.map((r) => toSqlTimestamp(r.firstClickTs)),
        c.map((r) => toSqlTimestamp(r.lastClickTs)),
        c.map((r) => r.sessionDurationSec),
      ]),
    );
  }
  for (const c of chunks(rows.dailyTraffic)) {
    await tx.query(
      sql(`INSERT INTO ${target('mart_daily_traffic')} (${col}event_date, total_events, unique_sessions, unique_documents, peak_hour, computed_at)
       SELECT ${val}d, t, s, u, p, now() FROM unnest($1::date[], $2::int[], $3::int[], $4::int[], $5::int[]) AS x(d, t, s, u, p)`, 5),
      bind([c.map((r) => r.eventDate), c.map((r) => r.totalEvents), c.map((r) => r.uniqueSessions), c.map((r) => r.uniqueDocuments), c.map((r) => r.peakHour)]),
    );
  }
  for (const c of chunks(rows.clinicalAreas)) {
    await tx.query(
      sql(`INSERT INTO ${target('mart_clinical_areas')} (${col}event_date, clinical_area, search_count, unique_sessions, computed_at)
       SELECT ${val}d, a, c, s, now() FROM unnest($1::date[], $2::text[], $3::int[], $4::int[]) AS x(d, a, c, s)`, 4),
      bind([c.map((r) => r.eventDate), c.map((r) => r.clinicalArea), c.map((r) => r.searchCount), c.map((r) => r.uniqueSessions)]),
    );
  }
  for (const c of chunks(rows.popularDocuments)) {
    await tx.query(
      sql(`INSERT INTO ${target('mart_popular_documents')} (${col}event_date, document_id, title, view_count, unique_sessions, computed_at)
       SELECT ${val}d, i, t, v, s, now() FROM unnest($1::date[], $2::bigint[], $3::text[], $4::int[], $5::int[]) AS x(d, i, t, v, s)`, 5),
      bind([c.map((r) => r.eventDate), c.map((r) => r.documentId), c.map((r) => r.title), c.map((r) => r.viewCount), c.map((r) => r.uniqueSessions)]),
    );
  }
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
