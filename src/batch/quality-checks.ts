// The quality checks of a day D (SPEC §6.4), pure: the job reads D's rows (after reconcile) and
// the row counts of the previous days, calls qualityChecks, and stores the results in
// `quality_results`. A 'fail' fails the job and raises an alert; a 'warn' is only recorded.
import { martColumns, MART_REGISTRY, rowKey, rowsOf } from '../marts/mart-registry.ts';
import type { MartDefinition, MartRegistry, SessionRollupName } from '../marts/mart-registry.ts';
import type { ColdMartRows, HotMartRows } from '../marts/types.ts';

export type QualityStatus = 'pass' | 'warn' | 'fail';

export interface QualityResult {
  readonly check: QualityCheckName;
  /** A mart table, or 'archive' for the freshness check. */
  readonly mart: string;
  readonly status: QualityStatus;
  /** null when there is nothing to observe or expect (e.g. no history yet). */
  readonly observed: number | null;
  readonly expected: number | null;
}

export type QualityCheckName =
  | 'pk_unique'
  | 'no_negatives'
  | 'events_match_daily_total'
  | 'archive_freshness'
  | 'row_count_change'
  | 'rollup_matches_sessions';

/** Rows of one day per mart table. */
export type MartRowCounts = Readonly<Partial<Record<string, number>>>;

export interface QualityInput {
  /** D's hot rows: keys (minute / snapshot_ts / detected_ts) inside the local day. */
  readonly hot: HotMartRows;
  /** D's cold rows. */
  readonly cold: ColdMartRows;
  /** The marts to check, and where in `hot` / `cold` their rows are; default the real registry. */
  readonly registry?: MartRegistry;
  /** Row counts per mart of each previous day that has rows (up to 7 are used). */
  readonly previousRowCounts?: readonly MartRowCounts[];
  /** Relative change of a mart's row count vs the previous days' mean that warns; default 0.5. */
  readonly rowCountChangeThreshold?: number;
  /** The archive writer's watermark and the end of D: fails when the archive did not pass D. */
  readonly archive?: { readonly watermark: number; readonly dayEnd: number };
}

export const DEFAULT_ROW_COUNT_CHANGE_THRESHOLD = 0.5;
const HISTORY_DAYS = 7;

type MartEntry = readonly [MartDefinition, readonly object[]];

/** Every mart of the registry with its rows of D. */
function martEntries(input: QualityInput): MartEntry[] {
  return (input.registry ?? MART_REGISTRY).marts.map((mart) => [mart, rowsOf(mart.kind === 'hot' ? input.hot : input.cold, mart)]);
}

function status(ok: boolean): QualityStatus {
  return ok ? 'pass' : 'fail';
}

/** Rows whose key occurs more than once (a key seen n times counts n − 1). */
function duplicateKeys(mart: MartDefinition, rows: readonly object[]): number {
  const keys = new Set<string>();
  let duplicates = 0;
  for (const row of rows) {
    const key = rowKey(mart, row);
    if (keys.has(key)) duplicates++;
    else keys.add(key);
  }
  return duplicates;
}

function negativeRows(mart: MartDefinition, rows: readonly object[]): number {
  const fields = martColumns(mart).filter((c) => c.nonNegative === true).map((c) => c.field);
  let count = 0;
  for (const row of rows) {
    const record = row as Readonly<Record<string, unknown>>;
    if (fields.some((field) => typeof record[field] === 'number' && (record[field] as number) < 0)) count++;
  }
  return count;
}

function sum<R>(rows: readonly R[], value: (row: R) => number): number {
  let total = 0;
  for (const row of rows) total += value(row);
  return total;
}

function sumField(rows: readonly object[], field: string): number {
  return sum(rows, (row) => {
    const value = (row as Readonly<Record<string, unknown>>)[field];
    return typeof value === 'number' ? value : 0;
  });
}

/**
 * Every check of D, in a stable order: pk_unique and no_negatives per mart, the cross-mart
 * invariant (each sum against mart_daily_traffic.total_events), archive freshness when given,
 * row-count change per mart.
 */
export function qualityChecks(input: QualityInput): QualityResult[] {
  const results: QualityResult[] = [];
  const marts = martEntries(input);
  for (const [mart, rows] of marts) {
    const duplicates = duplicateKeys(mart, rows);
    results.push({ check: 'pk_unique', mart: mart.table, status: status(duplicates === 0), observed: duplicates, expected: 0 });
  }
  for (const [mart, rows] of marts) {
    const negatives = negativeRows(mart, rows);
    results.push({ check: 'no_negatives', mart: mart.table, status: status(negatives === 0), observed: negatives, expected: 0 });
  }

  // Σ per-minute total_clicks = total_events = Σ session click_count = Σ clinical search_count
  // = Σ document view_count (the marts' dayEvents). A day without events has no daily row: its
  // total is 0.
  let totalEvents = 0;
  for (const [mart, rows] of marts) if (mart.dayEvents?.role === 'total') totalEvents = sumField(rows, mart.dayEvents.field);
  for (const [mart, rows] of marts) {
    if (mart.dayEvents?.role !== 'sum') continue;
    const observed = sumField(rows, mart.dayEvents.field);
    results.push({ check: 'events_match_daily_total', mart: mart.table, status: status(observed === totalEvents), observed, expected: totalEvents });
  }

  if (input.archive !== undefined) {
    const { watermark, dayEnd } = input.archive;
    results.push({ check: 'archive_freshness', mart: 'archive', status: status(watermark >= dayEnd), observed: watermark, expected: dayEnd });
  }

  const threshold = input.rowCountChangeThreshold ?? DEFAULT_ROW_COUNT_CHANGE_THRESHOLD;
  const history = (input.previousRowCounts ?? []).slice(-HISTORY_DAYS);
  for (const [mart, rows] of marts) {
    const observed = rows.length;
    const past = history.map((counts) => counts[mart.table]).filter((n): n is number => n !== undefined);
    if (past.length === 0) {
      // No history yet (first days of a deployment): nothing to compare with.
      results.push({ check: 'row_count_change', mart: mart.table, status: 'pass', observed, expected: null });
      continue;
    }
    const mean = Math.round((sum(past, (n) => n) / past.length) * 100) / 100;
    const change = mean === 0 ? (observed === 0 ? 0 : Number.POSITIVE_INFINITY) : Math.abs(observed - mean) / mean;
    results.push({ check: 'row_count_change', mart: mart.table, status: change > threshold ? 'warn' : 'pass', observed, expected: mean });
  }
  return results;
}

/** Row counts of a day per mart table, the `previousRowCounts` entry a later day will need. */
export function martRowCounts(hot: object, cold: object, registry: MartRegistry = MART_REGISTRY): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const mart of registry.marts) counts[mart.table] = rowsOf(mart.kind === 'hot' ? hot : cold, mart).length;
  return counts;
}

/** The job's verdict: a 'fail' anywhere fails it. */
/** Sessions each rollup of a day accounts for: one total per measure it describes. */
export interface SessionRollupTotals {
  /** Rows of mart_session_analysis of the day. */
  readonly sessions: number;
  readonly totals: Readonly<Record<SessionRollupName, readonly number[]>>;
}

/**
 * Every rollup of the day accounts for each of its sessions, once per measure (error level: a
 * dashboard would show a distribution of other sessions than the mart's). observed is the total
 * farthest from the session count, 0 for a measure that is missing.
 */
export function sessionRollupChecks({ sessions, totals }: SessionRollupTotals): QualityResult[] {
  const measures: Record<SessionRollupName, number> = { mart_session_histogram: 2, mart_session_percentiles: 2, mart_session_clicks: 1 };
  return (Object.keys(measures) as SessionRollupName[]).map((mart) => {
    const found = [...totals[mart]];
    if (sessions > 0) while (found.length < measures[mart]) found.push(0);
    const observed = found.reduce((worst, t) => (Math.abs(t - sessions) > Math.abs(worst - sessions) ? t : worst), sessions);
    return { check: 'rollup_matches_sessions', mart, status: observed === sessions ? 'pass' : 'fail', observed, expected: sessions };
  });
}

export function hasFailure(results: readonly QualityResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}
