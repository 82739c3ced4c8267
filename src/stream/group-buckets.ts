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

export interface GroupCell {
  count: number;
  /** The only session while there is one (with its event count in `count`). */
  session: string | null;
  /** Session → events, once the cell has a second session. */
  sessions: Map<string, number> | null;
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
  if (cell.sessions !== null) for (const [s, n] of cell.sessions) fn(s, n);
  else if (cell.session !== null) fn(cell.session, cell.count);
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
    cell.sessions.forEach((n, session) => flat.push(session, n));
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
