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

/** Serialisable form of a bucket, for the checkpoint. */
export type GroupBucketData = [group: string, count: number, sessions: [string, number][], title: TitleMark | null][];

export function bucketToData(bucket: GroupBucket): GroupBucketData {
  const out: GroupBucketData = [];
  for (const [group, cell] of bucket) {
    const sessions: [string, number][] = cell.sessions !== null ? [...cell.sessions] : cell.session !== null ? [[cell.session, cell.count]] : [];
    out.push([group, cell.count, sessions, cell.title]);
  }
  return out;
}

export function bucketFromData(data: GroupBucketData): GroupBucket {
  const bucket: GroupBucket = new Map();
  for (const [group, count, sessions, title] of data) {
    const single = sessions.length === 1 ? sessions[0]![0] : null;
    bucket.set(group, { count, session: single, sessions: single === null ? new Map(sessions) : null, title });
  }
  return bucket;
}
