// Every mart defined once: its table, key and value columns, how it is locked, aged, staged and
// checked. The stores, reconcile, the quality checks, retention, full refresh and the job API
// derive their lists from a registry instead of naming the marts again, so a new mart is one
// definition here (plus the code that computes its rows). Each derivation takes the registry as
// an argument, the real one by default, so a test can hand it a registry with extra marts.
import type {
  AnomalyRow,
  ClinicalAreaRow,
  ClinicalTrendRow,
  ColdMartRows,
  DailyTrafficRow,
  HotMartRows,
  PopularDocumentRow,
  SessionAnalysisRow,
  TopDocRow,
  TrafficMinuteRow,
} from './types.ts';

/** How a column crosses the SQL boundary (its unnest array type; how it is read back into a row). */
export type SqlType = 'text' | 'int' | 'bigint' | 'numeric' | 'date' | 'timestamptz';

/** Any row, as the derivations handle them: an object with named fields. */
export type AnyRow = Readonly<Record<string, unknown>>;

export interface MartColumn<R extends object = AnyRow> {
  /** The SQL column. */
  readonly column: string;
  /** The field of the row type (src/marts/types.ts) that holds it. */
  readonly field: keyof R & string;
  readonly type: SqlType;
  /**
   * A numeric measure reconcile subtracts to report max_abs_diff. Instants are never measures:
   * a moved window_end would otherwise report a "difference" in milliseconds that dwarfs every
   * count; a changed instant still makes the row changed.
   */
  readonly measure?: true;
  /** The quality checks fail a row where this is negative. */
  readonly nonNegative?: true;
  /**
   * The database computes it from the row's other columns (a generated column): read back like
   * the others, never written. The engine's value and the table's expression must agree; the
   * mart suites compare them.
   */
  readonly generated?: true;
}

interface MartBase<R extends object> {
  /** The field of HotMartRows / ColdMartRows holding this mart's rows. */
  readonly id: string;
  readonly table: string;
  /** The primary key, in index order: stored rows are read back sorted by it (text in "C" collation). */
  readonly key: readonly MartColumn<R>[];
  readonly values: readonly MartColumn<R>[];
  /**
   * The quality invariant Σ events of a day: 'total' is the mart whose `field` summed over the
   * day's rows is the day's event count (exactly one mart); 'sum' a mart whose `field` must add
   * up to it.
   */
  readonly dayEvents?: { readonly role: 'total' | 'sum'; readonly field: keyof R & string };
}

export interface HotMartDefinition<R extends object = AnyRow> extends MartBase<R> {
  readonly kind: 'hot';
  /**
   * The instant a row is keyed by: reconcile and the quality checks take a local day's rows by
   * it, retention ages rows by it.
   */
  readonly timeColumn: string;
  /**
   * Name of the transaction-scoped advisory lock (pg_advisory_xact_lock(hashtext(lock))) that
   * the stream's combiner holds while it writes rows of this mart and reconcile holds while it
   * replaces a day. Both sides take the locks they need in registry order, so they never deadlock.
   */
  readonly lock: string;
}

export interface ColdMartDefinition<R extends object = AnyRow> extends MartBase<R> {
  readonly kind: 'cold';
  /** The local date a row belongs to: a day's recompute replaces the rows of that date. */
  readonly dateColumn: string;
  /** Full refresh's staging table (db/migrations/005: refresh_id, then LIKE the mart). */
  readonly staging: string;
  /**
   * The table has a computed_at column (when the row's recompute ran), which the stores set.
   * Every cold mart but the sessions: 050 dropped it from that table's millions of rows a day.
   */
  readonly computedAt: boolean;
  /**
   * A mart with millions of rows a day: ColdMartChunks carries its rows as a one-pass sequence
   * of chunks under `chunks` (and their number under `count`), and the store writes them with
   * COPY where the database offers it.
   */
  readonly bulk?: { readonly chunks: string; readonly count: string };
}

export type MartDefinition<R extends object = AnyRow> = HotMartDefinition<R> | ColdMartDefinition<R>;

export interface MartRegistry {
  /** Hot marts first, then cold ones; within a kind, the order every derived list keeps. */
  readonly marts: readonly MartDefinition[];
  /** The one advisory lock every cold write holds (a day's replace, a full refresh's swap). */
  readonly coldLock: string;
}

// A definition is checked against its row type (every field must be one of the row's), then
// handled like the others: keyof makes the row type contravariant, so the typed definition is
// not assignable to the untyped one although every field name is a string.
export function hotMart<R extends object>(definition: HotMartDefinition<R>): HotMartDefinition {
  return definition as unknown as HotMartDefinition;
}

export function coldMart<R extends object>(definition: ColdMartDefinition<R>): ColdMartDefinition {
  return definition as unknown as ColdMartDefinition;
}

const int = <R extends object>(column: string, field: keyof R & string): MartColumn<R> => ({ column, field, type: 'int', measure: true, nonNegative: true });

// Each is keyed by its id (the field of HotMartRows / ColdMartRows).
export const HOT_MARTS = {
  traffic: hotMart<TrafficMinuteRow>({
    kind: 'hot',
    id: 'traffic',
    table: 'mart_realtime_traffic_minute',
    key: [{ column: 'event_minute', field: 'eventMinute', type: 'timestamptz' }],
    values: [int('total_clicks', 'totalClicks'), int('unique_sessions', 'uniqueSessions'), int('unique_docs', 'uniqueDocs')],
    dayEvents: { role: 'sum', field: 'totalClicks' },
    timeColumn: 'event_minute',
    lock: 'tidemark:traffic',
  }),
  topDocs: hotMart<TopDocRow>({
    kind: 'hot',
    id: 'topDocs',
    table: 'mart_realtime_top_docs_1h',
    key: [
      { column: 'snapshot_ts', field: 'snapshotTs', type: 'timestamptz' },
      { column: 'rank', field: 'rank', type: 'int', nonNegative: true },
    ],
    values: [
      { column: 'document_id', field: 'documentId', type: 'bigint' },
      { column: 'title', field: 'title', type: 'text' },
      int('click_count', 'clickCount'),
      int('unique_sessions', 'uniqueSessions'),
    ],
    timeColumn: 'snapshot_ts',
    lock: 'tidemark:top_docs',
  }),
  clinicalTrend: hotMart<ClinicalTrendRow>({
    kind: 'hot',
    id: 'clinicalTrend',
    table: 'mart_realtime_clinical_trend_24h',
    key: [
      { column: 'snapshot_ts', field: 'snapshotTs', type: 'timestamptz' },
      { column: 'clinical_area', field: 'clinicalArea', type: 'text' },
    ],
    values: [
      int('click_count', 'clickCount'),
      int('unique_sessions', 'uniqueSessions'),
      // Decimal text; can be negative (a falling trend).
      { column: 'trend_pct', field: 'trendPct', type: 'numeric', measure: true },
    ],
    timeColumn: 'snapshot_ts',
    lock: 'tidemark:clinical_trend',
  }),
  anomalies: hotMart<AnomalyRow>({
    kind: 'hot',
    id: 'anomalies',
    table: 'mart_realtime_anomaly_sessions',
    key: [
      { column: 'detected_ts', field: 'detectedTs', type: 'timestamptz' },
      { column: 'session_id', field: 'sessionId', type: 'text' },
    ],
    values: [
      { column: 'window_start', field: 'windowStart', type: 'timestamptz' },
      { column: 'window_end', field: 'windowEnd', type: 'timestamptz' },
      int('click_count', 'clickCount'),
      { column: 'severity', field: 'severity', type: 'text' },
    ],
    timeColumn: 'detected_ts',
    // Reconcile takes it; the sink writes anomaly rows per session rather than recombining them
    // and takes none (src/jobs/day-steps/reconcile-step.ts: episodes open across midnight).
    lock: 'tidemark:anomaly_sessions',
  }),
} as const satisfies { readonly [K in keyof HotMartRows]: HotMartDefinition };

export const COLD_MARTS = {
  sessionAnalysis: coldMart<SessionAnalysisRow>({
    kind: 'cold',
    id: 'sessionAnalysis',
    table: 'mart_session_analysis',
    key: [
      { column: 'event_date', field: 'eventDate', type: 'date' },
      { column: 'session_id', field: 'sessionId', type: 'text' },
    ],
    values: [
      int('click_count', 'clickCount'),
      int('unique_docs', 'uniqueDocs'),
      { column: 'first_click_ts', field: 'firstClickTs', type: 'timestamptz' },
      { column: 'last_click_ts', field: 'lastClickTs', type: 'timestamptz' },
      // Whole seconds of last − first, computed by the table (050): stored in none of the
      // embedded database's rows (PostgreSQL 18's VIRTUAL), a row's 4 bytes × a row per session.
      { ...int<SessionAnalysisRow>('session_duration_sec', 'sessionDurationSec'), generated: true },
    ],
    dayEvents: { role: 'sum', field: 'clickCount' },
    dateColumn: 'event_date',
    staging: 'cold_refresh_session_analysis',
    computedAt: false,
    bulk: { chunks: 'sessionChunks', count: 'sessionCount' },
  }),
  dailyTraffic: coldMart<DailyTrafficRow>({
    kind: 'cold',
    id: 'dailyTraffic',
    table: 'mart_daily_traffic',
    key: [{ column: 'event_date', field: 'eventDate', type: 'date' }],
    values: [
      int('total_events', 'totalEvents'),
      int('unique_sessions', 'uniqueSessions'),
      int('unique_documents', 'uniqueDocuments'),
      int('peak_hour', 'peakHour'),
    ],
    dayEvents: { role: 'total', field: 'totalEvents' },
    dateColumn: 'event_date',
    staging: 'cold_refresh_daily_traffic',
    computedAt: true,
  }),
  clinicalAreas: coldMart<ClinicalAreaRow>({
    kind: 'cold',
    id: 'clinicalAreas',
    table: 'mart_clinical_areas',
    key: [
      { column: 'event_date', field: 'eventDate', type: 'date' },
      { column: 'clinical_area', field: 'clinicalArea', type: 'text' },
    ],
    values: [int('search_count', 'searchCount'), int('unique_sessions', 'uniqueSessions')],
    dayEvents: { role: 'sum', field: 'searchCount' },
    dateColumn: 'event_date',
    staging: 'cold_refresh_clinical_areas',
    computedAt: true,
  }),
  popularDocuments: coldMart<PopularDocumentRow>({
    kind: 'cold',
    id: 'popularDocuments',
    table: 'mart_popular_documents',
    key: [
      { column: 'event_date', field: 'eventDate', type: 'date' },
      { column: 'document_id', field: 'documentId', type: 'bigint' },
    ],
    values: [{ column: 'title', field: 'title', type: 'text' }, int('view_count', 'viewCount'), int('unique_sessions', 'uniqueSessions')],
    dayEvents: { role: 'sum', field: 'viewCount' },
    dateColumn: 'event_date',
    staging: 'cold_refresh_popular_documents',
    computedAt: true,
  }),
} as const satisfies { readonly [K in keyof ColdMartRows]: ColdMartDefinition };


const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Checks a registry once, where it is made: table and column names are interpolated into SQL by
 * the stores, so each must be a plain lower-case identifier; ids and tables are unique; hot
 * marts come before cold ones; exactly one mart gives the day's event total.
 */
export function defineRegistry(registry: MartRegistry): MartRegistry {
  const identifiers: string[] = [];
  const ids = new Set<string>();
  const tables = new Set<string>();
  let seenCold = false;
  for (const mart of registry.marts) {
    if (ids.has(mart.id)) throw new RangeError(`mart registry: id ${mart.id} defined twice`);
    if (tables.has(mart.table)) throw new RangeError(`mart registry: table ${mart.table} defined twice`);
    ids.add(mart.id);
    tables.add(mart.table);
    if (mart.key.length === 0) throw new RangeError(`mart registry: ${mart.table} has no key`);
    identifiers.push(mart.table, ...martColumns(mart).map((c) => c.column));
    if (mart.kind === 'hot') {
      if (seenCold) throw new RangeError(`mart registry: hot mart ${mart.table} after a cold one`);
      if (!mart.key.some((c) => c.column === mart.timeColumn && c.type === 'timestamptz')) {
        throw new RangeError(`mart registry: ${mart.table}.${mart.timeColumn} is not a timestamptz key column`);
      }
    } else {
      seenCold = true;
      if (!mart.key.some((c) => c.column === mart.dateColumn && c.type === 'date')) {
        throw new RangeError(`mart registry: ${mart.table}.${mart.dateColumn} is not a date key column`);
      }
      identifiers.push(mart.staging);
    }
  }
  const bad = identifiers.find((name) => !IDENTIFIER.test(name));
  if (bad !== undefined) throw new RangeError(`mart registry: ${JSON.stringify(bad)} is not a plain SQL identifier`);
  const totals = registry.marts.filter((m) => m.dayEvents?.role === 'total').length;
  if (totals !== 1) throw new RangeError(`mart registry: ${totals} marts give the day's event total, expected 1`);
  return registry;
}

export const MART_REGISTRY: MartRegistry = defineRegistry({
  // Hot marts in the order the sink takes their locks.
  marts: [...Object.values(HOT_MARTS), ...Object.values(COLD_MARTS)],
  coldLock: 'tidemark:cold-marts',
});

export function hotMarts(registry: MartRegistry = MART_REGISTRY): HotMartDefinition[] {
  return registry.marts.filter((m): m is HotMartDefinition => m.kind === 'hot');
}

export function coldMarts(registry: MartRegistry = MART_REGISTRY): ColdMartDefinition[] {
  return registry.marts.filter((m): m is ColdMartDefinition => m.kind === 'cold');
}

export function hotTables(registry: MartRegistry = MART_REGISTRY): string[] {
  return hotMarts(registry).map((m) => m.table);
}

export function coldTables(registry: MartRegistry = MART_REGISTRY): string[] {
  return coldMarts(registry).map((m) => m.table);
}

/** Every advisory lock a hot-mart writer may take, in the order both sides take them. */
export function hotLocks(registry: MartRegistry = MART_REGISTRY): string[] {
  return hotMarts(registry).map((m) => m.lock);
}

/** Cold table → its full-refresh staging table. */
export function stagingTables(registry: MartRegistry = MART_REGISTRY): Record<string, string> {
  return Object.fromEntries(coldMarts(registry).map((m) => [m.table, m.staging]));
}

/** A mart's columns as stored: key columns first, then values. */
export function martColumns<R extends object>(mart: MartDefinition<R>): readonly MartColumn<R>[] {
  return [...mart.key, ...mart.values];
}

/** The columns a writer sets: all but the generated ones. */
export function writtenColumns<R extends object>(mart: MartDefinition<R>): readonly MartColumn<R>[] {
  return martColumns(mart).filter((c) => c.generated !== true);
}

/** Hot tables with the column their age is judged by. */
export function hotRetentionTargets(registry: MartRegistry = MART_REGISTRY): { readonly table: string; readonly column: string }[] {
  return hotMarts(registry).map((m) => ({ table: m.table, column: m.timeColumn }));
}

/**
 * A mart's rows out of a HotMartRows / ColdMartRows-shaped object (or any object holding rows
 * under the mart's id): an absent field is a caller's bug, not an empty mart.
 */
export function rowsOf(rows: object, mart: MartDefinition): readonly object[] {
  const value = (rows as Readonly<Record<string, unknown>>)[mart.id];
  if (!Array.isArray(value)) throw new TypeError(`no rows of ${mart.table} (field ${mart.id})`);
  return value as readonly object[];
}

/** The instant (epoch ms) a hot row is keyed by: the field of its mart's timeColumn. */
export function rowTime(mart: HotMartDefinition, row: object): number {
  const column = mart.key.find((c) => c.column === mart.timeColumn);
  const value = column === undefined ? undefined : (row as Readonly<Record<string, unknown>>)[column.field];
  if (typeof value !== 'number') throw new TypeError(`${mart.table}: a row without its ${mart.timeColumn}`);
  return value;
}

/** A row's primary key as one string: a JSON array of the key fields, unambiguous whatever the ids hold. */
export function rowKey(mart: MartDefinition, row: object): string {
  const record = row as Readonly<Record<string, unknown>>;
  return JSON.stringify(mart.key.map((c) => record[c.field]));
}

/**
 * The dashboards' daily session rollups (db/migrations/020): derived in SQL from
 * mart_session_analysis in the transaction that replaces a cold day, so they are not marts of
 * their own in the registry (nothing reconciles or stages them); quality checks them.
 */
export const SESSION_ROLLUP_TABLES = ['mart_session_histogram', 'mart_session_percentiles', 'mart_session_clicks'] as const;
export type SessionRollupName = (typeof SESSION_ROLLUP_TABLES)[number];
