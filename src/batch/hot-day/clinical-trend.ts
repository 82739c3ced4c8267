// mart_realtime_clinical_trend_24h for the snapshots of D (SPEC §4.3). Clicks per area come from
// per-minute counts (prefix sums: any window is a subtraction). Distinct sessions per area slide
// like the top documents' do, with one difference: the 24-hour window reaches back a whole day
// before D, and holding those events one by one would double the recompute's memory. An event
// before the records only matters through the latest instant its (area, session) pair was seen
// (PriorPairs): the pair is in every window that starts at or before that instant.
import { CLINICAL_WINDOW_MS } from '../../marts/types.ts';
import type { ClinicalTrendRow } from '../../marts/types.ts';
import { compareCodeUnits, MINUTE_MS, trendPercent } from '../../marts/window-math.ts';
import { NumericMap } from '../numeric-map.ts';
import type { DayRecords } from './day-records.ts';
import { minuteGroupOf } from './hot-day-data.ts';
import type { MinuteGroups } from './hot-day-data.ts';
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
  readonly groups: MinuteGroups;
  readonly areas: Interner;
  readonly clicks: AreaMinuteClicks;
  readonly prior: PriorPairs;
  readonly every: number;
  readonly dayStart: number;
  readonly dayEnd: number;
}

export function clinicalTrendRows(input: ClinicalTrendInput): ClinicalTrendRow[] {
  const { records, groups, every } = input;
  const snapshots = trendSnapshots(every, input.dayStart, input.dayEnd);
  if (snapshots.count === 0) return [];
  const areaCount = input.areas.size;
  const areaOrder = Array.from({ length: areaCount }, (_, a) => a).sort((a, b) => compareCodeUnits(input.areas.name(a), input.areas.name(b)));
  const cumulative = input.clicks.cumulative();
  const clicksIn = (area: number, from: number, to: number): number => {
    const sums = cumulative[area];
    if (sums === undefined) return 0;
    const index = (ts: number): number => Math.max(0, Math.min(input.clicks.minutes, (ts - input.clicks.firstMinute) / MINUTE_MS));
    return (sums[index(to)] as number) - (sums[index(from)] as number);
  };

  const sessions = new Int32Array(areaCount);
  const pairs = new NumericMap(input.prior.latest.size);
  const countPair = (key: number, delta: number): void => {
    const after = pairs.add(key, delta);
    const area = key % AREA_STRIDE;
    if (delta > 0 && after === delta) sessions[area] = (sessions[area] as number) + 1;
    else if (delta < 0 && after === 0) sessions[area] = (sessions[area] as number) - 1;
  };
  // Prior pairs are all in the first window (they were collected from its start on), and each
  // leaves at the first snapshot whose window starts after its latest instant.
  const leaving: number[][] = Array.from({ length: snapshots.count }, () => []);
  input.prior.latest.forEach((key, latestTs) => {
    countPair(key, 1);
    const step = Math.floor((latestTs + CLINICAL_WINDOW_MS - snapshots.first) / every) + 1;
    if (step < snapshots.count) leaving[Math.max(0, step)]?.push(key);
  });

  const pairOf = (row: number): number => (records.session[row] as number) * AREA_STRIDE + (records.area[row] as number);
  let entered = 0;
  let left = 0;
  const rows: ClinicalTrendRow[] = [];
  for (let step = 0; step < snapshots.count; step++) {
    const snapshotTs = snapshots.first + step * every;
    for (const until = minuteGroupOf(groups, snapshotTs); entered < until; entered++) {
      for (let k = groups.start[entered] as number; k < (groups.start[entered + 1] as number); k++) countPair(pairOf(groups.order[k] as number), 1);
    }
    const windowStart = snapshotTs - CLINICAL_WINDOW_MS;
    for (const until = minuteGroupOf(groups, windowStart); left < until; left++) {
      for (let k = groups.start[left] as number; k < (groups.start[left + 1] as number); k++) countPair(pairOf(groups.order[k] as number), -1);
    }
    for (const key of leaving[step] as number[]) countPair(key, -1);

    for (const area of areaOrder) {
      const clickCount = clicksIn(area, windowStart, snapshotTs);
      const previous = clicksIn(area, windowStart - CLINICAL_WINDOW_MS, windowStart);
      if (clickCount === 0 && previous === 0) continue;
      rows.push({
        snapshotTs,
        clinicalArea: input.areas.name(area),
        clickCount,
        uniqueSessions: sessions[area] as number,
        trendPct: trendPercent(clickCount, previous),
      });
    }
  }
  return rows;
}
