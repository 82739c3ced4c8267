// mart_realtime_clinical_trend_24h: two global sliding windows over every partition's per-step
// clinical-area buckets, the last 24 h (with distinct sessions) and the 24 h before it (clicks
// only). A snapshot has a row for every area with clicks in either window.
import { CLINICAL_WINDOW_MS } from '../../marts/types.ts';
import type { ClickEvent, ClinicalTrendRow } from '../../marts/types.ts';
import { compareCodeUnits, trendPercent } from '../../marts/window-math.ts';
import { addToStepBucket, bucketFromData, bucketToData, forgetSessions, packBucket } from '../group-buckets.ts';
import type { GroupBucket, GroupBucketData, SessionIdInterner } from '../group-buckets.ts';
import { SlidingWindow } from '../sliding-window.ts';
import type { GroupValue } from '../sliding-window.ts';
import type { BucketLookup, KeyedRows, WindowedMartOperator } from './hot-operator.ts';
import { advanceWindows } from './window-advance.ts';

type ValueOf = (area: string) => GroupValue | undefined;

function rowsOf(snapshotTs: number, areas: Iterable<string>, current: ValueOf, previous: ValueOf): ClinicalTrendRow[] {
  const rows: ClinicalTrendRow[] = [];
  for (const area of areas) {
    const clicks = current(area)?.count ?? 0;
    const prev = previous(area)?.count ?? 0;
    if (clicks <= 0 && prev <= 0) continue;
    rows.push({
      snapshotTs,
      clinicalArea: area,
      clickCount: clicks,
      uniqueSessions: clicks === 0 ? 0 : (current(area)?.distinctSessions ?? 0),
      trendPct: trendPercent(clicks, prev),
    });
  }
  return rows.sort((a, b) => compareCodeUnits(a.clinicalArea, b.clinicalArea));
}

export class ClinicalTrendOperator implements WindowedMartOperator<GroupBucket, ClinicalTrendRow> {
  readonly stepMs: number;
  readonly reachMs = 2 * CLINICAL_WINDOW_MS;
  /** Only the last 24 h count distinct sessions: the day before it compares clicks. */
  readonly sessionsReachMs = CLINICAL_WINDOW_MS;
  private readonly interner: SessionIdInterner;
  private current: SlidingWindow | null = null;
  private previous: SlidingWindow | null = null;
  /** Reset at +∞: the source ended and every snapshot was written; later buckets are none of ours. */
  private ended = false;

  constructor(stepMs: number, interner: SessionIdInterner) {
    this.stepMs = stepMs;
    this.interner = interner;
  }

  settle(bucket: GroupBucket): void {
    packBucket(bucket, this.interner);
  }

  readonly forgetSessions = forgetSessions;

  get frontier(): number {
    if (this.ended) return Number.POSITIVE_INFINITY;
    return this.current?.frontier ?? Number.NEGATIVE_INFINITY;
  }

  private newWindows(frontier: number, lookup: BucketLookup<GroupBucket>): [SlidingWindow, SlidingWindow] {
    const current = new SlidingWindow({ windowMs: CLINICAL_WINDOW_MS, stepMs: this.stepMs, trackSessions: true, frontier });
    const previous = new SlidingWindow({ windowMs: CLINICAL_WINDOW_MS, offsetMs: CLINICAL_WINDOW_MS, stepMs: this.stepMs, trackSessions: false, frontier });
    current.reset(frontier, lookup);
    previous.reset(frontier, lookup);
    return [current, previous];
  }

  addEvent(buckets: Map<number, GroupBucket>, event: ClickEvent): number {
    return addToStepBucket(buckets, this.stepMs, event.clinicalArea, event.sessionId, null, event.eventTs, event.eventId);
  }

  encode(bucket: GroupBucket): GroupBucketData {
    return bucketToData(bucket);
  }

  decode(data: unknown): GroupBucket {
    return bucketFromData(data as GroupBucketData);
  }

  reset(frontier: number, lookup: BucketLookup<GroupBucket>): void {
    this.ended = frontier === Number.POSITIVE_INFINITY;
    if (Number.isFinite(frontier)) [this.current, this.previous] = this.newWindows(frontier, lookup);
    else this.current = this.previous = null;
  }

  advance(to: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<ClinicalTrendRow>[] {
    if (this.ended) return [];
    if (this.current === null || this.previous === null) {
      const first = starts[0];
      if (first === undefined || first >= to) return [];
      [this.current, this.previous] = this.newWindows(first, lookup);
    }
    const current = this.current;
    const previous = this.previous;
    const out: KeyedRows<ClinicalTrendRow>[] = [];
    advanceWindows([current, previous], to, lookup, starts, (f) => f - CLINICAL_WINDOW_MS, (snapshotTs) => {
      const areas = new Set([...current.cells.keys(), ...previous.cells.keys()]);
      const rows = rowsOf(snapshotTs, areas, (a) => current.valueOf(a), (a) => previous.valueOf(a));
      if (rows.length > 0) out.push({ ts: snapshotTs, final: true, rows });
    });
    return out;
  }

  provisional(until: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<ClinicalTrendRow>[] {
    if (this.ended) return [];
    const first = starts[0];
    const [current, previous] = this.current !== null && this.previous !== null ? [this.current, this.previous] : first === undefined ? [null, null] : this.newWindows(first, lookup);
    if (current === null || previous === null) return [];
    const currentChanges = new Map<number, ReadonlyMap<string, GroupValue>>();
    current.overlaySnapshots(until, lookup, (ts, changed) => currentChanges.set(ts, changed));
    const out: KeyedRows<ClinicalTrendRow>[] = [];
    previous.overlaySnapshots(until, lookup, (snapshotTs, prevChanged) => {
      const curChanged = currentChanges.get(snapshotTs) ?? new Map<string, GroupValue>();
      const areas = new Set([...current.cells.keys(), ...previous.cells.keys(), ...curChanged.keys(), ...prevChanged.keys()]);
      const rows = rowsOf(
        snapshotTs,
        areas,
        (a) => (curChanged.has(a) ? curChanged.get(a) : current.valueOf(a)),
        (a) => (prevChanged.has(a) ? prevChanged.get(a) : previous.valueOf(a)),
      );
      if (rows.length > 0) out.push({ ts: snapshotTs, final: false, rows });
    });
    return out;
  }
}
