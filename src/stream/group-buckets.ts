// Per-bucket, per-group aggregates (group = document for top docs, clinical area for the trend)
// that keep exact distinct sessions: a session→events count map per group, so buckets can be
// added to and removed from a sliding window without losing exactness.

export interface TitleMark {
  readonly ts: number;
  readonly eventId: string;
  readonly title: string;
}

export interface GroupCell {
  count: number;
  readonly sessions: Map<string, number>;
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

export function newCell(): GroupCell {
  return { count: 0, sessions: new Map(), title: null };
}

export function addToBucket(
  bucket: GroupBucket,
  group: string,
  sessionId: string,
  title: TitleMark | null,
): void {
  let cell = bucket.get(group);
  if (cell === undefined) {
    cell = newCell();
    bucket.set(group, cell);
  }
  cell.count += 1;
  cell.sessions.set(sessionId, (cell.sessions.get(sessionId) ?? 0) + 1);
  if (title !== null) cell.title = laterTitle(cell.title, title);
}

/** Serialisable form of a bucket, for the checkpoint. */
export type GroupBucketData = [group: string, count: number, sessions: [string, number][], title: TitleMark | null][];

export function bucketToData(bucket: GroupBucket): GroupBucketData {
  const out: GroupBucketData = [];
  for (const [group, cell] of bucket) out.push([group, cell.count, [...cell.sessions], cell.title]);
  return out;
}

export function bucketFromData(data: GroupBucketData): GroupBucket {
  const bucket: GroupBucket = new Map();
  for (const [group, count, sessions, title] of data) bucket.set(group, { count, sessions: new Map(sessions), title });
  return bucket;
}
