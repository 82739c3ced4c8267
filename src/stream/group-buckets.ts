// Per-bucket, per-group aggregates (group = document for top docs, clinical area for the trend)
// that keep exact distinct sessions, so buckets can be added to and removed from a sliding
// window without losing exactness. Most cells of a minute hold one session: that one is kept
// inline and a map is made only for a second one (a map per cell was most of the hot path's
// garbage).

export interface TitleMark {
  readonly ts: number;
  readonly eventId: string;
  readonly title: string;
}

/**
 * A final bucket's sessions with their events, packed side by side: a final bucket never changes
 * again, and an array slot plus four bytes cost a fraction of a Map entry (the 24 h trend window
 * holds millions of them).
 */
export interface PackedSessions {
  readonly ids: readonly string[];
  readonly counts: Int32Array;
}

export interface GroupCell {
  count: number;
  /** The only session while there is one (with its event count in `count`). */
  session: string | null;
  /** Session → events, once the cell has a second session; packed once the bucket is final. */
  sessions: Map<string, number> | PackedSessions | null;
  title: TitleMark | null;
}

export type GroupBucket = Map<string, GroupCell>;

/** Latest by (event_ts, event_id), event_id in code-unit order. */
export function laterTitle(a: TitleMark | null, b: TitleMark | null): TitleMark | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.ts !== b.ts) return a.ts > b.ts ? a : b;
  return a.eventId > b.eventId ? a : b;
}

/** True when the event (ts, id) comes after the mark in title order. */
function isLater(ts: number, eventId: string, mark: TitleMark | null): boolean {
  return mark === null || ts > mark.ts || (ts === mark.ts && eventId > mark.eventId);
}

export function addToBucket(bucket: GroupBucket, group: string, sessionId: string, title: string | null, ts: number, eventId: string): void {
  const cell = bucket.get(group);
  if (cell === undefined) {
    bucket.set(group, { count: 1, session: sessionId, sessions: null, title: title === null ? null : { ts, eventId, title } });
    return;
  }
  if (cell.sessions !== null) {
    if (!(cell.sessions instanceof Map)) throw new Error('an event for a final bucket');
    cell.sessions.set(sessionId, (cell.sessions.get(sessionId) ?? 0) + 1);
  } else if (cell.session !== sessionId) {
    cell.sessions = new Map([
      [cell.session!, cell.count],
      [sessionId, 1],
    ]);
    cell.session = null;
  }
  cell.count += 1;
  if (title !== null && isLater(ts, eventId, cell.title)) cell.title = { ts, eventId, title };
}

/** Adds an event to the bucket of its step (made when missing) and returns the bucket's start. */
export function addToStepBucket(buckets: Map<number, GroupBucket>, stepMs: number, group: string, sessionId: string, title: string | null, ts: number, eventId: string): number {
  const start = Math.floor(ts / stepMs) * stepMs;
  let bucket = buckets.get(start);
  if (bucket === undefined) buckets.set(start, (bucket = new Map()));
  addToBucket(bucket, group, sessionId, title, ts, eventId);
  return start;
}

/** Calls fn for every session of the cell with its event count. */
export function forEachSession(cell: GroupCell, fn: (session: string, n: number) => void): void {
  const sessions = cell.sessions;
  if (sessions === null) {
    if (cell.session !== null) fn(cell.session, cell.count);
  } else if (sessions instanceof Map) {
    for (const [s, n] of sessions) fn(s, n);
  } else {
    const { ids, counts } = sessions;
    for (let i = 0; i < ids.length; i++) fn(ids[i]!, counts[i]!);
  }
}

/**
 * One string per session id across the final buckets. Every event brings its own copy of its
 * session's id; kept as they came, the trend's 24 h of buckets and its window would hold a copy
 * per (bucket, area, session) — more memory than the entries themselves. Two generations, so
 * that the table holds only recent sessions (a session lasts minutes) and costs O(1) per id.
 */
export class SessionIdInterner {
  private young = new Map<string, string>();
  private old = new Map<string, string>();
  private readonly generationSize: number;

  constructor(generationSize = 100_000) {
    this.generationSize = generationSize;
  }

  intern(id: string): string {
    const young = this.young.get(id);
    if (young !== undefined) return young;
    // A session still active a generation later moves up, so it keeps its one string.
    const canonical = this.old.get(id) ?? id;
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(id, canonical);
    return canonical;
  }
}

/** Packs a final bucket's sessions (see PackedSessions), with their ids interned. */
export function packBucket(bucket: GroupBucket, interner: SessionIdInterner): void {
  bucket.forEach((cell) => {
    const sessions = cell.sessions;
    if (sessions === null) {
      if (cell.session !== null) cell.session = interner.intern(cell.session);
      return;
    }
    if (!(sessions instanceof Map)) return;
    const ids: string[] = [];
    const counts = new Int32Array(sessions.size);
    sessions.forEach((n, session) => {
      counts[ids.length] = n;
      ids.push(interner.intern(session));
    });
    cell.sessions = { ids, counts };
  });
}

/**
 * Keeps only a bucket's counts and titles: for a bucket that has left every window that counts
 * its distinct sessions (the trend's previous day counts clicks only).
 */
export function forgetSessions(bucket: GroupBucket): void {
  bucket.forEach((cell) => {
    cell.session = null;
    cell.sessions = null;
  });
}

/**
 * Stored form of a bucket, for the checkpoint: per group its count, its sessions — the lone
 * session as a string (its events are the count), or session and events flattened in turn — and
 * its title mark. Flat, because a bucket is encoded once per step and most cells hold one session.
 */
export type GroupBucketData = [group: string, count: number, sessions: string | (string | number)[], title: TitleMark | null][];

/** The earlier stored form (sessions as [session, events] pairs), still read on restore. */
type PairedSessions = [string, number][];

export function bucketToData(bucket: GroupBucket): GroupBucketData {
  const out: GroupBucketData = [];
  bucket.forEach((cell, group) => {
    if (cell.sessions === null) {
      out.push([group, cell.count, cell.session ?? [], cell.title]);
      return;
    }
    const flat: (string | number)[] = [];
    forEachSession(cell, (session, n) => flat.push(session, n));
    out.push([group, cell.count, flat, cell.title]);
  });
  return out;
}

export function bucketFromData(data: GroupBucketData): GroupBucket {
  const bucket: GroupBucket = new Map();
  for (const [group, count, stored, title] of data) {
    if (typeof stored === 'string') {
      bucket.set(group, { count, session: stored, sessions: null, title });
      continue;
    }
    const sessions = new Map<string, number>();
    if (stored.length > 0 && Array.isArray(stored[0])) for (const [session, n] of stored as unknown as PairedSessions) sessions.set(session, n);
    else for (let i = 0; i + 1 < stored.length; i += 2) sessions.set(stored[i] as string, stored[i + 1] as number);
    const single = sessions.size === 1 ? (sessions.keys().next().value as string) : null;
    bucket.set(group, { count, session: single, sessions: single === null && sessions.size > 0 ? sessions : null, title });
  }
  return bucket;
}
