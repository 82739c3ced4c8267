// Reconcile's comparison of a day's rows as stored against the same day recomputed from the
// archive: the figures of `reconcile_reports` (SPEC §6.3) and the rows to write so that the
// stored day becomes the recomputed one.
import type { ColdMartRows, HotMartRows } from '../marts/types.ts';
import { COLD_SPECS, HOT_SPECS, measureValue } from './mart-specs.ts';
import type { MartName, MartSpec } from './mart-specs.ts';

export interface DiffCounts {
  readonly mart: MartName;
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

function indexByKey<R extends object>(spec: MartSpec<R>, rows: readonly R[], side: string): Map<string, R> {
  const index = new Map<string, R>();
  for (const row of rows) {
    const key = spec.key(row);
    // A repeated key means the input is not a table: a diff of it would be meaningless.
    if (index.has(key)) throw new RangeError(`${spec.mart}: ${side} rows repeat the primary key ${key}`);
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
export function diffRows<R extends object>(spec: MartSpec<R>, current: readonly R[], recomputed: readonly R[]): MartDiff<R> {
  const stored = indexByKey(spec, current, 'stored');
  const fresh = indexByKey(spec, recomputed, 'recomputed');
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
    for (const measure of spec.measures) {
      const a = measureValue(before[measure]);
      const b = measureValue(row[measure]);
      if (a !== null && b !== null) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
    }
  }
  for (const [key, row] of stored) if (!fresh.has(key)) deletes.push(row);
  // Decimal text like trend_pct subtracts in binary: round to its two places.
  maxAbsDiff = Math.round(maxAbsDiff * 100) / 100;
  return {
    mart: spec.mart,
    rowsCompared: stored.size + rowsAdded,
    rowsChanged,
    rowsAdded,
    rowsRemoved: deletes.length,
    maxAbsDiff,
    upserts,
    deletes,
  };
}

export interface HotMartDiffs {
  readonly traffic: MartDiff<HotMartRows['traffic'][number]>;
  readonly topDocs: MartDiff<HotMartRows['topDocs'][number]>;
  readonly clinicalTrend: MartDiff<HotMartRows['clinicalTrend'][number]>;
  readonly anomalies: MartDiff<HotMartRows['anomalies'][number]>;
}

export interface ColdMartDiffs {
  readonly sessionAnalysis: MartDiff<ColdMartRows['sessionAnalysis'][number]>;
  readonly dailyTraffic: MartDiff<ColdMartRows['dailyTraffic'][number]>;
  readonly clinicalAreas: MartDiff<ColdMartRows['clinicalAreas'][number]>;
  readonly popularDocuments: MartDiff<ColdMartRows['popularDocuments'][number]>;
}

/** The four hot marts of a day, stored vs recomputed: one report row per mart. */
export function diffHotMarts(current: HotMartRows, recomputed: HotMartRows): HotMartDiffs {
  return {
    traffic: diffRows(HOT_SPECS.traffic, current.traffic, recomputed.traffic),
    topDocs: diffRows(HOT_SPECS.topDocs, current.topDocs, recomputed.topDocs),
    clinicalTrend: diffRows(HOT_SPECS.clinicalTrend, current.clinicalTrend, recomputed.clinicalTrend),
    anomalies: diffRows(HOT_SPECS.anomalies, current.anomalies, recomputed.anomalies),
  };
}

/** The four cold marts of a day (what a recompute changed, for the job's log and audit). */
export function diffColdMarts(current: ColdMartRows, recomputed: ColdMartRows): ColdMartDiffs {
  return {
    sessionAnalysis: diffRows(COLD_SPECS.sessionAnalysis, current.sessionAnalysis, recomputed.sessionAnalysis),
    dailyTraffic: diffRows(COLD_SPECS.dailyTraffic, current.dailyTraffic, recomputed.dailyTraffic),
    clinicalAreas: diffRows(COLD_SPECS.clinicalAreas, current.clinicalAreas, recomputed.clinicalAreas),
    popularDocuments: diffRows(COLD_SPECS.popularDocuments, current.popularDocuments, recomputed.popularDocuments),
  };
}

/** Only the figures, e.g. to insert into reconcile_reports. */
export function diffCounts(diff: DiffCounts): DiffCounts {
  const { mart, rowsCompared, rowsChanged, rowsAdded, rowsRemoved, maxAbsDiff } = diff;
  return { mart, rowsCompared, rowsChanged, rowsAdded, rowsRemoved, maxAbsDiff };
}
