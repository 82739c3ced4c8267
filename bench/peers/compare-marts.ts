// Row-for-row comparison of a peer's tables with tidemark's hot marts, on the windows that
// tidemark's final watermark has passed (the rows no engine will change any more).
import type { Queryable } from '../../src/io/db/database.ts';

export interface MartSpec {
  readonly name: string;
  /** tidemark's mart table and the peer's table suffix (flink_…, spark_…). */
  readonly table: string;
  readonly peerSuffix: string;
  readonly keys: readonly string[];
  readonly values: readonly string[];
  /** The window's end as an SQL expression of the time key column, for finality. */
  readonly windowEnd: string;
  readonly timeKey: string;
}

export const MARTS: readonly MartSpec[] = [
  {
    name: 'traffic per minute',
    table: 'mart_realtime_traffic_minute',
    peerSuffix: 'traffic_minute',
    keys: ['event_minute'],
    values: ['total_clicks', 'unique_sessions', 'unique_docs'],
    windowEnd: "event_minute + interval '1 minute'",
    timeKey: 'event_minute',
  },
  {
    name: 'top docs 1 h',
    table: 'mart_realtime_top_docs_1h',
    peerSuffix: 'top_docs_1h',
    keys: ['snapshot_ts', 'rank'],
    values: ['document_id', 'title', 'click_count', 'unique_sessions'],
    windowEnd: 'snapshot_ts',
    timeKey: 'snapshot_ts',
  },
  {
    name: 'clinical trend 24 h',
    table: 'mart_realtime_clinical_trend_24h',
    peerSuffix: 'clinical_trend_24h',
    keys: ['snapshot_ts', 'clinical_area'],
    values: ['click_count', 'unique_sessions', 'trend_pct'],
    windowEnd: 'snapshot_ts',
    timeKey: 'snapshot_ts',
  },
];

export interface MartDiff {
  readonly tidemarkRows: number;
  readonly peerRows: number;
  /** Keys present on one side only, or present on both with any value different. */
  readonly differing: number;
  /** Same, counting only the columns the peer computes exactly (all of them for exact peers). */
  readonly differingExact: number;
}

/**
 * Compares the final rows of one mart. exactValues: the value columns the peer computes exactly
 * (Spark's approximate distinct counts are left out of differingExact).
 */
export async function compareMart(db: Queryable, mart: MartSpec, peer: string, watermarkMs: number, exactValues: readonly string[]): Promise<MartDiff> {
  // Peers store UTC instants as timestamp: turn them into timestamptz to meet tidemark's keys.
  const peerKey = (k: string): string => (k === mart.timeKey ? `${k} AT TIME ZONE 'UTC' AS ${k}` : k);
  const cols = [...mart.keys, ...mart.values];
  const tuple = (side: string, names: readonly string[]): string => (names.length === 0 ? 'NULL' : `(${names.map((v) => `${side}.${v}`).join(', ')})`);
  const sql = `
    WITH t AS (SELECT ${cols.join(', ')} FROM ${mart.table} WHERE ${mart.windowEnd} <= to_timestamp($1::float8 / 1000)),
         p AS (SELECT * FROM (SELECT ${[...mart.keys.map(peerKey), ...mart.values].join(', ')} FROM ${peer}_${mart.peerSuffix}) x
               WHERE ${mart.windowEnd} <= to_timestamp($1::float8 / 1000))
    SELECT count(*) FILTER (WHERE t.${mart.keys[0]} IS NOT NULL)::int AS tidemark_rows,
           count(*) FILTER (WHERE p.${mart.keys[0]} IS NOT NULL)::int AS peer_rows,
           count(*) FILTER (WHERE t.${mart.keys[0]} IS NULL OR p.${mart.keys[0]} IS NULL
                              OR ${tuple('t', mart.values)} IS DISTINCT FROM ${tuple('p', mart.values)})::int AS differing,
           count(*) FILTER (WHERE t.${mart.keys[0]} IS NULL OR p.${mart.keys[0]} IS NULL
                              OR ${tuple('t', exactValues)} IS DISTINCT FROM ${tuple('p', exactValues)})::int AS differing_exact
    FROM t FULL JOIN p USING (${mart.keys.join(', ')})`;
  const r = await db.query<{ tidemark_rows: number; peer_rows: number; differing: number; differing_exact: number }>(sql, [watermarkMs]);
  const row = r.rows[0]!;
  return { tidemarkRows: row.tidemark_rows, peerRows: row.peer_rows, differing: row.differing, differingExact: row.differing_exact };
}
