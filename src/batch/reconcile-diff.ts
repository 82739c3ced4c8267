// Reconcile's comparison of a day's rows as stored against the same day recomputed from the
// archive: the figures of `reconcile_reports` (SPEC §6.3) and the rows to write so that the
// stored day becomes the recomputed one.
import { coldMarts, hotMarts, martColumns, MART_REGISTRY, rowKey, rowsOf } from '../marts/mart-registry.ts';
import type { MartDefinition, MartRegistry } from '../marts/mart-registry.ts';
import type { ColdMartRows, HotMartRows } from '../marts/types.ts';

export interface DiffCounts {
  /** The mart's table. */
  readonly mart: string;
  /** Distinct primary keys on either side: every row that was looked at. */
  readonly rowsCompared: number;
  /** Keys on both sides whose values differ. */
  readonly rowsChanged: number;
  /** Keys only in the recomputed rows. */
  readonly rowsAdded: number;
  /** Keys only in the stored rows. */
  readonly rowsRemoved: number;
  /**
   * Largest |stored − recomputed| over the numeric measures of changed rows (0 when none
   * changed). Added and removed rows have nothing to subtract from and are counted, not
   * measured; a NULL trend_pct on either side contributes nothing either.
   */
  readonly maxAbsDiff: number;
}

export interface MartDiff<R extends object> extends DiffCounts {
  /** Recomputed rows of added and changed keys, in recomputed order. */
  readonly upserts: readonly R[];
  /** Stored rows of removed keys, in stored order. */
  readonly deletes: readonly R[];
}

/** A measure as a number: counts are numbers already, trend_pct is decimal text or null. */
function measureValue(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

function indexByKey<R extends object>(mart: MartDefinition, rows: readonly R[], side: string): Map<string, R> {
  const index = new Map<string, R>();
  for (const row of rows) {
    const key = rowKey(mart, row);
    // A repeated key means the input is not a table: a diff of it would be meaningless.
    if (index.has(key)) throw new RangeError(`${mart.table}: ${side} rows repeat the primary key ${key}`);
    index.set(key, row);
  }
  return index;
}

function sameRow(a: object, b: object): boolean {
  const left = a as Readonly<Record<string, unknown>>;
  const right = b as Readonly<Record<string, unknown>>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!Object.is(left[key], right[key])) return false;
  return true;
}

/**
 * Compares one mart's rows of a day. Both sides must use the row types of src/marts/types.ts
 * exactly (the io layer maps BIGINT / NUMERIC / TIMESTAMPTZ to them), since values compare
 * with Object.is.
 */
export function diffRows<R extends object>(mart: MartDefinition, current: readonly R[], recomputed: readonly R[]): MartDiff<R> {
  const stored = indexByKey(mart, current, 'stored');
  const fresh = indexByKey(mart, recomputed, 'recomputed');
  const measures = martColumns(mart).filter((c) => c.measure === true).map((c) => c.field);
  const upserts: R[] = [];
  const deletes: R[] = [];
  let rowsChanged = 0;
  let rowsAdded = 0;
  let maxAbsDiff = 0;
  for (const [key, row] of fresh) {
    const before = stored.get(key);
    if (before === undefined) {
      rowsAdded++;
      upserts.push(row);
      continue;
    }
    if (sameRow(before, row)) continue;
    rowsChanged++;
    upserts.push(row);
    for (const measure of measures) {
      const a = measureValue((before as Readonly<Record<string, unknown>>)[measure]);
      const b = measureValue((row as Readonly<Record<string, unknown>>)[measure]);
      if (a !== null && b !== null) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
    }
  }
  for (const [key, row] of stored) if (!fresh.has(key)) deletes.push(row);
  // Decimal text like trend_pct subtracts in binary: round to its two places.
  maxAbsDiff = Math.round(maxAbsDiff * 100) / 100;
  return {
    mart: mart.table,
    rowsCompared: stored.size + rowsAdded,
    rowsChanged,
    rowsAdded,
    rowsRemoved: deletes.length,
    maxAbsDiff,
    upserts,
    deletes,
  };
}

/** One diff per field of a HotMartRows / ColdMartRows-shaped object, under the same names. */
export type MartDiffs<Rows extends object> = { readonly [K in keyof Rows]: MartDiff<Rows[K] extends readonly (infer R extends object)[] ? R : never> };
export type HotMartDiffs = MartDiffs<HotMartRows>;
export type ColdMartDiffs = MartDiffs<ColdMartRows>;

function diffMarts(marts: readonly MartDefinition[], current: object, recomputed: object): Record<string, MartDiff<object>> {
  return Object.fromEntries(marts.map((mart) => [mart.id, diffRows(mart, rowsOf(current, mart), rowsOf(recomputed, mart))]));
}

/** The hot marts of a day, stored vs recomputed: one report row per mart, in registry order. */
export function diffHotMarts<Rows extends object = HotMartRows>(current: Rows, recomputed: Rows, registry: MartRegistry = MART_REGISTRY): MartDiffs<Rows> {
  return diffMarts(hotMarts(registry), current, recomputed) as MartDiffs<Rows>;
}

/** The cold marts of a day (what a recompute changed, for the job's log and audit). */
export function diffColdMarts<Rows extends object = ColdMartRows>(current: Rows, recomputed: Rows, registry: MartRegistry = MART_REGISTRY): MartDiffs<Rows> {
  return diffMarts(coldMarts(registry), current, recomputed) as MartDiffs<Rows>;
}

/** The reconcile_reports figures of diffHotMarts' result, one per hot mart in registry order. */
export function hotMartReports(diffs: object, registry: MartRegistry = MART_REGISTRY): DiffCounts[] {
  return hotMarts(registry).map((mart) => {
    const diff = (diffs as Readonly<Record<string, DiffCounts | undefined>>)[mart.id];
    if (diff === undefined) throw new TypeError(`no diff of ${mart.table}`);
    return diffCounts(diff);
  });
}

/** Only the figures, e.g. to insert into reconcile_reports. */
export function diffCounts(diff: DiffCounts): DiffCounts {
  const { mart, rowsCompared, rowsChanged, rowsAdded, rowsRemoved, maxAbsDiff } = diff;
  return { mart, rowsCompared, rowsChanged, rowsAdded, rowsRemoved, maxAbsDiff };
}
