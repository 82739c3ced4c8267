// mart_realtime_clinical_trend_24h for the snapshots of D (SPEC §4.3). Clicks per area come from
// per-minute counts (prefix sums: any window is a subtraction). Distinct sessions per area are
// counted per session: an event at ts is in the windows of the snapshots k with
// ts < T_k ≤ ts + 24 h, an interval of snapshot numbers; a session counts for an area in the
// union of its events' intervals, which is added to a difference array per area (+1 where an
// interval starts, −1 after it ends), so no set of (area, session) pairs is ever held.
// The 24-hour window reaches back a whole day before D, and holding those events one by one
// would double the recompute's memory: an event before the records only matters through the
// latest instant its (area, session) pair was seen (PriorPairs), whose interval starts at the
// first snapshot.
import { CLINICAL_WINDOW_MS } from '../../marts/types.ts';
import type { ClinicalTrendRow } from '../../marts/types.ts';
import { compareCodeUnits, MINUTE_MS, trendPercent } from '../../marts/window-math.ts';
import { NumericMap } from '../numeric-map.ts';
import type { DayRecords, SessionGroups } from './day-records.ts';
import type { Interner } from './interner.ts';

/** Pair keys are session × AREA_STRIDE + area: 2^20 areas leave 2^33 sessions below 2^53. */
export const AREA_STRIDE = 2 ** 20;

/** The snapshot instants of D for a cadence: multiples of `every` in [dayStart, dayEnd). */
export function trendSnapshots(every: number, dayStart: number, dayEnd: number): { readonly first: number; readonly count: number } {
  const first = Math.ceil(dayStart / every) * every;
  return { first, count: first < dayEnd ? Math.ceil((dayEnd - first) / every) : 0 };
}

/** Clicks per area and minute over [firstMinute, firstMinute + minutes × 1 min). */
export class AreaMinuteClicks {
  readonly firstMinute: number;
  readonly minutes: number;
  private readonly perArea: Int32Array[] = [];

  constructor(firstMinute: number, minutes: number) {
    this.firstMinute = firstMinute;
    this.minutes = minutes;
  }

  /** Counts one click when ts lies in the range. */
  add(area: number, ts: number): void {
    const m = Math.floor((ts - this.firstMinute) / MINUTE_MS);
    if (m < 0 || m >= this.minutes) return;
    let counts = this.perArea[area];
    if (counts === undefined) this.perArea[area] = counts = new Int32Array(this.minutes);
    counts[m] = (counts[m] as number) + 1;
  }

  /** Per area (index = area number, undefined when it has no click in range): cumulative[m] = clicks before minute m. */
  cumulative(): (Float64Array | undefined)[] {
    return Array.from(this.perArea, (counts) => {
      if (counts === undefined) return undefined;
      const sums = new Float64Array(counts.length + 1);
      for (let m = 0; m < counts.length; m++) sums[m + 1] = (sums[m] as number) + (counts[m] as number);
      return sums;
    });
  }
}

/** (area, session) pairs seen before the records, with the latest instant each was seen. */
export class PriorPairs {
  readonly latest = new NumericMap();

  add(session: number, area: number, ts: number): void {
    const key = session * AREA_STRIDE + area;
    if (ts > this.latest.get(key, Number.NEGATIVE_INFINITY)) this.latest.set(key, ts);
  }
}

export interface ClinicalTrendInput {
  readonly records: DayRecords;
  readonly bySession: SessionGroups;
  readonly sessionCount: number;
  readonly areas: Interner;
  readonly clicks: AreaMinuteClicks;
  readonly prior: PriorPairs;
  readonly every: number;
  readonly dayStart: number;
  readonly dayEnd: number;
}

export function clinicalTrendRows(input: ClinicalTrendInput): ClinicalTrendRow[] {
  const snapshots = trendSnapshots(input.every, input.dayStart, input.dayEnd);
  if (snapshots.count === 0) return [];
  const sessions = sessionsPerSnapshot(input, snapshots);
  const areaOrder = Array.from({ length: input.areas.size }, (_, a) => a).sort((a, b) => compareCodeUnits(input.areas.name(a), input.areas.name(b)));
  const cumulative = input.clicks.cumulative();
  const clicksIn = (area: number, from: number, to: number): number => {
    const sums = cumulative[area];
    if (sums === undefined) return 0;
    const index = (ts: number): number => Math.max(0, Math.min(input.clicks.minutes, (ts - input.clicks.firstMinute) / MINUTE_MS));
    return (sums[index(to)] as number) - (sums[index(from)] as number);
  };
  const rows: ClinicalTrendRow[] = [];
  for (let step = 0; step < snapshots.count; step++) {
    const snapshotTs = snapshots.first + step * input.every;
    const windowStart = snapshotTs - CLINICAL_WINDOW_MS;
    for (const area of areaOrder) {
      const clickCount = clicksIn(area, windowStart, snapshotTs);
      const previous = clicksIn(area, windowStart - CLINICAL_WINDOW_MS, windowStart);
      if (clickCount === 0 && previous === 0) continue;
      rows.push({
        snapshotTs,
        clinicalArea: input.areas.name(area),
        clickCount,
        uniqueSessions: sessions[area]?.[step] ?? 0,
        trendPct: trendPercent(clickCount, previous),
      });
    }
  }
  return rows;
}

/** Distinct sessions per area (index) and snapshot number. */
function sessionsPerSnapshot(input: ClinicalTrendInput, snapshots: { readonly first: number; readonly count: number }): Int32Array[] {
  const { records, bySession, every } = input;
  const diff = Array.from({ length: input.areas.size }, () => new Int32Array(snapshots.count + 1));
  const count = (area: number, from: number, to: number): void => {
    if (from > to) return;
    const d = diff[area] as Int32Array;
    d[from] = (d[from] as number) + 1;
    d[to + 1] = (d[to + 1] as number) - 1;
  };
  /** The last snapshot whose window holds an event at ts. */
  const lastHolding = (ts: number): number => Math.min(snapshots.count - 1, Math.floor((ts + CLINICAL_WINDOW_MS - snapshots.first) / every));
  /** The first snapshot after ts. */
  const firstAfter = (ts: number): number => Math.max(0, Math.floor((ts - snapshots.first) / every) + 1);

  // Prior pairs hold from the first snapshot on; a session's records extend them below.
  input.prior.latest.forEach((key, latestTs) => count(key % AREA_STRIDE, 0, lastHolding(latestTs)));

  // Per session, its records as area × 2^32 + (ts − base) sorted: by area, then by time.
  let keys = new Float64Array(1 << 10);
  for (let session = 0; session < input.sessionCount; session++) {
    const from = bySession.start[session] as number;
    const n = (bySession.start[session + 1] as number) - from;
    if (n > keys.length) keys = new Float64Array(2 * n);
    let used = 0;
    for (let k = 0; k < n; k++) {
      const row = bySession.order[from + k] as number;
      const area = records.area.get(row);
      if (area >= 0) keys[used++] = area * 2 ** 32 + (records.ts[row] as number) + 2 ** 31;
    }
    const sorted = keys.subarray(0, used).sort();
    let area = -1;
    let start = 0;
    let end = -1;
    let priorEnd = -1; // the prior pair's interval [0, priorEnd], already counted
    for (let k = 0; k <= used; k++) {
      const key = k < used ? (sorted[k] as number) : Number.POSITIVE_INFINITY;
      const keyArea = k < used ? Math.floor(key / 2 ** 32) : -1;
      const ts = records.base + (key % 2 ** 32) - 2 ** 31;
      if (keyArea === area && firstAfter(ts) <= end + 1) {
        end = Math.max(end, lastHolding(ts));
        continue;
      }
      if (area >= 0) count(area, Math.max(start, priorEnd + 1), end);
      if (k === used) break;
      if (keyArea !== area) {
        area = keyArea;
        const latest = input.prior.latest.get(session * AREA_STRIDE + area, Number.NEGATIVE_INFINITY);
        priorEnd = latest === Number.NEGATIVE_INFINITY ? -1 : lastHolding(latest);
      }
      start = firstAfter(ts);
      end = lastHolding(ts);
    }
  }
  // Running sums turn the differences into counts.
  for (const d of diff) for (let k = 1; k < d.length; k++) d[k] = (d[k] as number) + (d[k - 1] as number);
  return diff;
}
