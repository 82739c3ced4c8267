// mart_realtime_top_docs_1h: one global sliding window of an hour over every partition's
// per-step document buckets. Sessions live in one partition, so merging the partitions' session
// counts keeps distinct sessions exact. Each final snapshot writes its top 20; provisional
// snapshots up to the newest event are overlays of the open buckets.
import { TOP_DOCS_LIMIT, TOP_DOCS_WINDOW_MS } from '../../marts/types.ts';
import type { ClickEvent, TopDocRow } from '../../marts/types.ts';
import { compareDecimalIds } from '../../marts/window-math.ts';
import { addToStepBucket, bucketFromData, bucketToData, packBucket } from '../group-buckets.ts';
import type { GroupBucket, GroupBucketData, SessionIdInterner, TitleMark } from '../group-buckets.ts';
import { SlidingWindow, distinctSessions } from '../sliding-window.ts';
import type { GroupValue } from '../sliding-window.ts';
import type { BucketLookup, KeyedRows, WindowedMartOperator } from './hot-operator.ts';
import { advanceWindows } from './window-advance.ts';

/** click_count desc, unique_sessions desc, document_id asc. */
function ranksBefore(count: number, sessions: number, group: string, than: GroupValue): boolean {
  if (count !== than.count) return count > than.count;
  if (sessions !== than.distinctSessions) return sessions > than.distinctSessions;
  return compareDecimalIds(group, than.group) < 0;
}

/**
 * Keeps the first `limit` groups in rank order. Most groups of a window hold a click or two, so
 * each is first compared with the current last place before anything is allocated for it.
 */
class TopList {
  readonly values: GroupValue[] = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Fewest clicks that can still enter (0 while the list has room): a cheap first test. */
  get floor(): number {
    return this.values.length === this.limit ? this.values[this.limit - 1]!.count : 0;
  }

  offer(group: string, count: number, sessions: number, title: TitleMark | null): void {
    if (count <= 0) return;
    const top = this.values;
    if (top.length === this.limit && !ranksBefore(count, sessions, group, top[this.limit - 1]!)) return;
    let i = top.length;
    while (i > 0 && ranksBefore(count, sessions, group, top[i - 1]!)) i--;
    top.splice(i, 0, { group, count, distinctSessions: sessions, title });
    if (top.length > this.limit) top.pop();
  }
}

function rowsOf(snapshotTs: number, top: TopList): TopDocRow[] {
  return top.values.map((v, i) => ({
    snapshotTs,
    rank: i + 1,
    documentId: v.group,
    title: v.title?.title ?? null,
    clickCount: v.count,
    uniqueSessions: v.distinctSessions,
  }));
}

/** The first `limit` documents of the window in rank order, leaving out `skip`'s. */
function windowTop(window: SlidingWindow, limit: number, skip?: ReadonlyMap<string, GroupValue>): TopList {
  const top = new TopList(limit);
  let floor = 0;
  // forEach, not for…of: the scan runs over every document of the hour once a minute, and the
  // iterator's result objects were a third of the hot path's garbage.
  window.cells.forEach((cell) => {
    if (cell.count < floor || (skip !== undefined && skip.has(cell.group))) return;
    top.offer(cell.group, cell.count, distinctSessions(cell), cell.title);
    floor = top.floor;
  });
  return top;
}

/** How many leaders a full scan keeps as candidates, beyond the rows a snapshot shows. */
const LEADERS = 3 * TOP_DOCS_LIMIT;

/**
 * The documents that can be in a snapshot's top 20, kept between snapshots so that a step costs
 * what it changed rather than a scan of every document of the hour. Invariant: every document
 * outside `members` ranks at or after `cutoff` (null: there is no document outside). A step
 * changes only the documents of the buckets entering and leaving the window, so only those are
 * re-ranked against the cutoff; once fewer than 20 members are left, a full scan starts over.
 */
class TopLeaders {
  private readonly members = new Set<string>();
  private cutoff: GroupValue | null = null;
  private valid = false;

  invalidate(): void {
    this.valid = false;
  }

  /** Re-ranks the documents a step touched (their cells as they are now). */
  touched(window: SlidingWindow, buckets: readonly GroupBucket[]): void {
    if (!this.valid) return;
    for (const bucket of buckets) {
      bucket.forEach((_cell, group) => {
        const cell = window.cells.get(group);
        if (cell === undefined || cell.count <= 0) this.members.delete(group);
        else if (this.cutoff === null || ranksBefore(cell.count, distinctSessions(cell), group, this.cutoff)) this.members.add(group);
        else this.members.delete(group);
      });
    }
    // Without a cutoff every new document joins: start over before the set grows large.
    if (this.cutoff === null && this.members.size > 4 * LEADERS) this.valid = false;
  }

  top(window: SlidingWindow): TopList {
    if (!this.valid || (this.cutoff !== null && this.members.size < TOP_DOCS_LIMIT)) this.rebuild(window);
    const top = new TopList(TOP_DOCS_LIMIT);
    for (const group of this.members) {
      const cell = window.cells.get(group)!;
      top.offer(group, cell.count, distinctSessions(cell), cell.title);
    }
    return top;
  }

  private rebuild(window: SlidingWindow): void {
    const scan = windowTop(window, LEADERS + 1);
    this.members.clear();
    for (const v of scan.values.slice(0, LEADERS)) this.members.add(v.group);
    this.cutoff = scan.values[LEADERS] ?? null;
    this.valid = true;
  }
}

export class TopDocsOperator implements WindowedMartOperator<GroupBucket, TopDocRow> {
  readonly stepMs: number;
  readonly reachMs = TOP_DOCS_WINDOW_MS;
  private window: SlidingWindow | null = null;
  private readonly leaders = new TopLeaders();
  /** Reset at +∞: the source ended and every snapshot was written; later buckets are none of ours. */
  private ended = false;

  private readonly interner: SessionIdInterner;

  constructor(stepMs: number, interner: SessionIdInterner) {
    this.stepMs = stepMs;
    this.interner = interner;
  }

  settle(bucket: GroupBucket): void {
    packBucket(bucket, this.interner);
  }

  get frontier(): number {
    if (this.ended) return Number.POSITIVE_INFINITY;
    return this.window?.frontier ?? Number.NEGATIVE_INFINITY;
  }

  private newWindow(frontier: number, lookup: BucketLookup<GroupBucket>): SlidingWindow {
    const window = new SlidingWindow({ windowMs: TOP_DOCS_WINDOW_MS, stepMs: this.stepMs, trackSessions: true, frontier });
    window.reset(frontier, lookup);
    return window;
  }

  addEvent(buckets: Map<number, GroupBucket>, event: ClickEvent): number {
    return addToStepBucket(buckets, this.stepMs, event.documentId, event.sessionId, event.title, event.eventTs, event.eventId);
  }

  encode(bucket: GroupBucket): GroupBucketData {
    return bucketToData(bucket);
  }

  decode(data: unknown): GroupBucket {
    return bucketFromData(data as GroupBucketData);
  }

  reset(frontier: number, lookup: BucketLookup<GroupBucket>): void {
    this.ended = frontier === Number.POSITIVE_INFINITY;
    this.window = Number.isFinite(frontier) ? this.newWindow(frontier, lookup) : null;
    this.leaders.invalidate();
  }

  advance(to: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<TopDocRow>[] {
    if (this.ended) return [];
    if (this.window === null) {
      const first = starts[0];
      if (first === undefined || first >= to) return [];
      this.window = this.newWindow(first, lookup);
      this.leaders.invalidate();
    }
    const window = this.window;
    const out: KeyedRows<TopDocRow>[] = [];
    let previous = window.frontier;
    advanceWindows([window], to, lookup, starts, (f) => f, (snapshotTs) => {
      if (snapshotTs !== previous + this.stepMs) this.leaders.invalidate(); // the window jumped (reset)
      previous = snapshotTs;
      const entering = snapshotTs - this.stepMs;
      this.leaders.touched(window, lookup(entering));
      this.leaders.touched(window, lookup(entering - TOP_DOCS_WINDOW_MS));
      if (window.cells.size > 0) out.push({ ts: snapshotTs, final: true, rows: rowsOf(snapshotTs, this.leaders.top(window)) });
    });
    return out;
  }

  provisional(until: number, lookup: BucketLookup<GroupBucket>, starts: readonly number[]): KeyedRows<TopDocRow>[] {
    if (this.ended) return [];
    const first = starts[0];
    const window = this.window ?? (first === undefined ? null : this.newWindow(first, lookup));
    if (window === null) return [];
    const out: KeyedRows<TopDocRow>[] = [];
    window.overlaySnapshots(until, lookup, (snapshotTs, changed) => {
      const top = windowTop(window, TOP_DOCS_LIMIT, changed);
      for (const v of changed.values()) top.offer(v.group, v.count, v.distinctSessions, v.title);
      const rows = rowsOf(snapshotTs, top);
      if (rows.length > 0) out.push({ ts: snapshotTs, final: false, rows });
    });
    return out;
  }
}
