// An exact sliding aggregate over step-sized buckets: the "frontier" F covers the buckets in
// [F − offset − W, F − offset). It advances one step at a time as the watermark finalises
// buckets (O(bucket) per step), and evaluates provisional snapshots beyond F as an overlay of
// the not-yet-final buckets, without copying the aggregate.
import { forEachSession, laterTitle } from './group-buckets.ts';
import type { GroupBucket, TitleMark } from './group-buckets.ts';
import { SessionCounts } from './session-counts.ts';

/**
 * A group's aggregate over the window: its events and, per session, how many of them. Like a
 * bucket's cell, a lone session is kept inline (all `count` events are its own) and a map is made
 * only for a second one: most documents of an hour are read in one session.
 */
export interface WindowCell {
  /** The group's key, also here so that scans over the values need no map entries. */
  readonly group: string;
  count: number;
  session: string | null;
  sessions: SessionCounts | null;
  title: TitleMark | null;
}

/** Distinct sessions of a window cell. */
export function distinctSessions(cell: WindowCell): number {
  return cell.sessions !== null ? cell.sessions.size : cell.session !== null ? 1 : 0;
}

/** The cell's events of one session. */
function eventsOf(cell: WindowCell | undefined, session: string): number {
  if (cell === undefined) return 0;
  if (cell.sessions !== null) return cell.sessions.get(session);
  return cell.session === session ? cell.count : 0;
}

/** Adds n events of a session; call before the cell's count grows (the lone session's count is the cell's). */
function addSession(cell: WindowCell, session: string, n: number): void {
  if (cell.sessions !== null) cell.sessions.add(session, n);
  else if (cell.session === null) cell.session = session;
  else if (cell.session !== session) {
    cell.sessions = new SessionCounts();
    cell.sessions.add(cell.session, cell.count);
    cell.sessions.add(session, n);
    cell.session = null;
  }
}

/** Removes n events of a session; call before the cell's count shrinks. */
function removeSession(cell: WindowCell, session: string, n: number): void {
  if (cell.sessions !== null) cell.sessions.remove(session, n);
  else if (cell.session === session && cell.count - n <= 0) cell.session = null;
}

/** Buckets that start at an instant, one per partition that has one. */
export type BucketLookup = (start: number) => readonly GroupBucket[];

/** A group's value in one snapshot. */
export interface GroupValue {
  readonly group: string;
  readonly count: number;
  readonly distinctSessions: number;
  readonly title: TitleMark | null;
}

interface OverlayCell {
  count: number;
  distinct: number;
  readonly sessionDelta: Map<string, number>;
  titleDropped: boolean;
  addedTitle: TitleMark | null;
}

export class SlidingWindow {
  readonly windowMs: number;
  readonly stepMs: number;
  readonly offsetMs: number;
  private readonly trackSessions: boolean;
  private frontierTs: number;
  readonly cells = new Map<string, WindowCell>();

  constructor(options: { windowMs: number; stepMs: number; offsetMs?: number; trackSessions: boolean; frontier: number }) {
    this.windowMs = options.windowMs;
    this.stepMs = options.stepMs;
    this.offsetMs = options.offsetMs ?? 0;
    this.trackSessions = options.trackSessions;
    this.frontierTs = options.frontier;
  }

  get frontier(): number {
    return this.frontierTs;
  }

  /** Rebuilds the aggregate for a frontier from scratch (restore, rebalance). */
  reset(frontier: number, lookup: BucketLookup): void {
    this.frontierTs = frontier;
    this.cells.clear();
    const from = frontier - this.offsetMs - this.windowMs;
    for (let start = from; start < frontier - this.offsetMs; start += this.stepMs) {
      for (const bucket of lookup(start)) this.addBucket(bucket);
    }
  }

  /** Moves the frontier one step: the bucket entering at the head, the one leaving at the tail. */
  advance(lookup: BucketLookup): void {
    const entering = this.frontierTs - this.offsetMs;
    const leaving = entering - this.windowMs;
    for (const bucket of lookup(leaving)) this.removeBucket(bucket, leaving);
    for (const bucket of lookup(entering)) this.addBucket(bucket);
    this.frontierTs += this.stepMs;
  }

  /** The aggregate's value for every group with events. */
  frontierValues(): GroupValue[] {
    const out: GroupValue[] = [];
    for (const [group, cell] of this.cells) {
      if (cell.count > 0) out.push({ group, count: cell.count, distinctSessions: distinctSessions(cell), title: cell.title });
    }
    return out;
  }

  valueOf(group: string): GroupValue | undefined {
    const cell = this.cells.get(group);
    if (cell === undefined || cell.count === 0) return undefined;
    return { group, count: cell.count, distinctSessions: distinctSessions(cell), title: cell.title };
  }

  /**
   * Values for snapshots F + step, F + 2·step, … up to `until`, as overlays of the frontier.
   * `emit` receives, per snapshot, the groups whose value differs from the frontier (`changed`),
   * and a lookup for the rest. Stops early if the overlay would reach buckets it also adds
   * (more steps than the window holds): those snapshots wait until they are final.
   */
  overlaySnapshots(
    until: number,
    lookup: BucketLookup,
    emit: (snapshotTs: number, changed: ReadonlyMap<string, GroupValue>) => void,
  ): void {
    const overlay = new Map<string, OverlayCell>();
    const maxSteps = Math.floor(this.windowMs / this.stepMs);
    let steps = 0;
    for (let snapshotTs = this.frontierTs + this.stepMs; snapshotTs <= until; snapshotTs += this.stepMs) {
      if (++steps > maxSteps) return;
      const entering = snapshotTs - this.stepMs - this.offsetMs;
      const leaving = entering - this.windowMs;
      for (const bucket of lookup(leaving)) {
        for (const [group, cell] of bucket) {
          const o = this.overlayCell(overlay, group);
          o.count -= cell.count;
          const base = this.cells.get(group)?.title ?? null;
          if (base !== null && base.ts < leaving + this.stepMs) o.titleDropped = true;
          if (this.trackSessions) forEachSession(cell, (session, n) => this.shiftSession(o, group, session, -n));
        }
      }
      for (const bucket of lookup(entering)) {
        for (const [group, cell] of bucket) {
          const o = this.overlayCell(overlay, group);
          o.count += cell.count;
          o.addedTitle = laterTitle(o.addedTitle, cell.title);
          if (this.trackSessions) forEachSession(cell, (session, n) => this.shiftSession(o, group, session, n));
        }
      }
      const changed = new Map<string, GroupValue>();
      for (const [group, o] of overlay) {
        const base = this.cells.get(group);
        const baseTitle = o.titleDropped ? null : (base?.title ?? null);
        changed.set(group, {
          group,
          count: (base?.count ?? 0) + o.count,
          distinctSessions: (base === undefined ? 0 : distinctSessions(base)) + o.distinct,
          title: laterTitle(baseTitle, o.addedTitle),
        });
      }
      emit(snapshotTs, changed);
    }
  }

  private overlayCell(overlay: Map<string, OverlayCell>, group: string): OverlayCell {
    let o = overlay.get(group);
    if (o === undefined) {
      o = { count: 0, distinct: 0, sessionDelta: new Map(), titleDropped: false, addedTitle: null };
      overlay.set(group, o);
    }
    return o;
  }

  /** Keeps the overlay's distinct-session adjustment exact as one session's delta changes. */
  private shiftSession(o: OverlayCell, group: string, session: string, n: number): void {
    const base = eventsOf(this.cells.get(group), session);
    const before = o.sessionDelta.get(session) ?? 0;
    const after = before + n;
    if (after === 0) o.sessionDelta.delete(session);
    else o.sessionDelta.set(session, after);
    o.distinct += (base + after > 0 ? 1 : 0) - (base + before > 0 ? 1 : 0);
  }

  private addBucket(bucket: GroupBucket): void {
    for (const [group, cell] of bucket) {
      let agg = this.cells.get(group);
      if (agg === undefined) {
        agg = { group, count: 0, session: null, sessions: null, title: null };
        this.cells.set(group, agg);
      }
      if (this.trackSessions) {
        // Inlined rather than forEachSession: a closure per cell showed in the profile.
        const sessions = cell.sessions;
        if (sessions instanceof Map) {
          for (const [session, n] of sessions) {
            addSession(agg, session, n);
            agg.count += n;
          }
        } else if (sessions !== null) {
          const { ids, counts } = sessions;
          for (let i = 0; i < ids.length; i++) {
            addSession(agg, ids[i]!, counts[i]!);
            agg.count += counts[i]!;
          }
        } else {
          if (cell.session !== null) addSession(agg, cell.session, cell.count);
          agg.count += cell.count;
        }
      } else agg.count += cell.count;
      agg.title = laterTitle(agg.title, cell.title);
    }
  }

  private removeBucket(bucket: GroupBucket, bucketStart: number): void {
    for (const [group, cell] of bucket) {
      const agg = this.cells.get(group);
      if (agg === undefined) continue;
      if (this.trackSessions) {
        const sessions = cell.sessions;
        if (sessions instanceof Map) {
          for (const [session, n] of sessions) {
            removeSession(agg, session, n);
            agg.count -= n;
          }
        } else if (sessions !== null) {
          const { ids, counts } = sessions;
          for (let i = 0; i < ids.length; i++) {
            removeSession(agg, ids[i]!, counts[i]!);
            agg.count -= counts[i]!;
          }
        } else {
          if (cell.session !== null) removeSession(agg, cell.session, cell.count);
          agg.count -= cell.count;
        }
      } else agg.count -= cell.count;
      // The bucket leaving is the oldest in the window: if the latest title lies in it, every
      // titled event of the group did, so none is left.
      if (agg.title !== null && agg.title.ts < bucketStart + this.stepMs) agg.title = null;
      if (agg.count <= 0) this.cells.delete(group);
    }
  }
}
