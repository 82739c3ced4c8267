// mart_realtime_top_docs_1h: one global sliding window of an hour over every partition's
// per-step document buckets. Sessions live in one partition, so merging the partitions' session
// counts keeps distinct sessions exact. Each final snapshot writes its top 20; provisional
// snapshots up to the newest event are overlays of the open buckets.
import { TOP_DOCS_LIMIT, TOP_DOCS_WINDOW_MS } from '../../marts/types.ts';
import type { TopDocRow } from '../../marts/types.ts';
import { compareDecimalIds } from '../../marts/window-math.ts';
import type { GroupBucket } from '../group-buckets.ts';
import { SlidingWindow } from '../sliding-window.ts';
import type { GroupValue } from '../sliding-window.ts';
import type { BucketLookup, KeyedRows, WindowedMartOperator } from './hot-operator.ts';
import { advanceWindows } from './window-advance.ts';

/** click_count desc, unique_sessions desc, document_id asc. */
function ranksBefore(a: GroupValue, b: GroupValue): boolean {
  if (a.count !== b.count) return a.count > b.count;
  if (a.distinctSessions !== b.distinctSessions) return a.distinctSessions > b.distinctSessions;
  return compareDecimalIds(a.group, b.group) < 0;
}

/** The first `limit` values in rank order, by insertion into a short sorted list. */
export function topValues(values: Iterable<GroupValue>, limit: number): GroupValue[] {
  const top: GroupValue[] = [];
  for (const v of values) {
    if (v.count <= 0) continue;
    if (top.length === limit && !ranksBefore(v, top[limit - 1]!)) continue;
    let i = top.length;
    while (i > 0 && ranksBefore(v, top[i - 1]!)) i--;
    top.splice(i, 0, v);
    if (top.length > limit) top.pop();
  }
  return top;
}

function rowsOf(snapshotTs: number, values: Iterable<GroupValue>): TopDocRow[] {
  return topValues(values, TOP_DOCS_LIMIT).map((v, i) => ({
    snapshotTs,
    rank: i + 1,
    documentId: v.group,
    title: v.title?.title ?? null,
    clickCount: v.count,
    uniqueSessions: v.distinctSessions,
  }));
}

function* windowValues(window: SlidingWindow): Generator<GroupValue> {
  for (const [group, cell] of window.cells) {
    if (cell.count > 0) yield { group, count: cell.count, distinctSessions: cell.sessions.size, title: cell.title };
  }
}

export class TopDocsOperator implements WindowedMartOperator<GroupBucket, TopDocRow> {
  readonly stepMs: number;
  readonly reachMs = TOP_DOCS_WINDOW_MS;
  private window: SlidingWindow | null = null;

  constructor(stepMs: number) {
    this.stepMs = stepMs;
  }

  get frontier(): number {
    return this.window?.frontier ?? Number.NEGATIVE_INFINITY;
  }

  private newWindow(frontier: number, lookup: BucketLookup<GroupBucket>): SlidingWindow {
    const window = new SlidingWindow({ windowMs: TOP_DOCS_WINDOW_MS, stepMs: this.stepMs, trackSessions: true, frontier });
    window.reset(frontier, lookup);
    return window;
  }

  reset(frontier: number, lookup: BucketLookup<GroupBucket>): void {
    this.window = Number.isFinite(frontier) ? this.newWindow(frontier, lookup) : null;
  }

  advance(to: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<TopDocRow>[] {
    if (this.window === null) {
      const first = starts[0];
      if (first === undefined || first >= to) return [];
      this.window = this.newWindow(first, lookup);
    }
    const window = this.window;
    const out: KeyedRows<TopDocRow>[] = [];
    advanceWindows([window], to, lookup, starts, (f) => f, (snapshotTs) => {
      if (window.cells.size > 0) out.push({ ts: snapshotTs, final: true, rows: rowsOf(snapshotTs, windowValues(window)) });
    });
    return out;
  }

  provisional(until: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<TopDocRow>[] {
    const first = starts[0];
    const window = this.window ?? (first === undefined ? null : this.newWindow(first, lookup));
    if (window === null) return [];
    const out: KeyedRows<TopDocRow>[] = [];
    window.overlaySnapshots(until, lookup, (snapshotTs, changed) => {
      const values = function* (): Generator<GroupValue> {
        for (const v of windowValues(window)) if (!changed.has(v.group)) yield v;
        for (const v of changed.values()) if (v.count > 0) yield v;
      };
      const rows = rowsOf(snapshotTs, values());
      if (rows.length > 0) out.push({ ts: snapshotTs, final: false, rows });
    });
    return out;
  }
}
