// mart_realtime_traffic_minute: one bucket per partition and minute; a minute's row is the sum of
// the partitions' clicks and distinct sessions (a session lives in one partition) and the union
// of their documents. No window: a minute is final once every partition has finished it.
import type { ClickEvent, TrafficMinuteRow } from '../../marts/types.ts';
import { MINUTE_MS, minuteOf } from '../../marts/window-math.ts';
import { firstAtOrAfter } from './hot-operator.ts';
import type { BucketLookup, KeyedRows, WindowedMartOperator } from './hot-operator.ts';

export interface TrafficBucket {
  clicks: number;
  readonly sessions: Set<string>;
  readonly docs: Set<string>;
}

/** Stored form: the session count is enough once the minute is final (sessions never span partitions). */
export type TrafficBucketData = [clicks: number, sessions: number, docs: string[]];

/** A bucket restored from its stored form: sessions are counted, not listed. */
export interface StoredTrafficBucket {
  readonly clicks: number;
  readonly sessionCount: number;
  readonly docs: ReadonlySet<string>;
}

export type AnyTrafficBucket = TrafficBucket | StoredTrafficBucket;

export function newTrafficBucket(): TrafficBucket {
  return { clicks: 0, sessions: new Set(), docs: new Set() };
}

export function trafficToData(bucket: AnyTrafficBucket): TrafficBucketData {
  return [bucket.clicks, sessionCount(bucket), [...bucket.docs]];
}

export function trafficFromData(data: TrafficBucketData): StoredTrafficBucket {
  return { clicks: data[0], sessionCount: data[1], docs: new Set(data[2]) };
}

function sessionCount(bucket: AnyTrafficBucket): number {
  return 'sessions' in bucket ? bucket.sessions.size : bucket.sessionCount;
}

export function combineTrafficBuckets(eventMinute: number, buckets: readonly AnyTrafficBucket[]): TrafficMinuteRow | null {
  let totalClicks = 0;
  let uniqueSessions = 0;
  let docs: ReadonlySet<string> | null = null;
  let union: Set<string> | null = null;
  for (const b of buckets) {
    totalClicks += b.clicks;
    uniqueSessions += sessionCount(b);
    if (docs === null) docs = b.docs;
    else {
      union ??= new Set(docs);
      for (const d of b.docs) union.add(d);
    }
  }
  if (totalClicks === 0) return null;
  return { eventMinute, totalClicks, uniqueSessions, uniqueDocs: (union ?? docs)?.size ?? 0 };
}

export class TrafficOperator implements WindowedMartOperator<AnyTrafficBucket, TrafficMinuteRow> {
  readonly stepMs = MINUTE_MS;
  readonly reachMs = 0;
  private at = Number.NEGATIVE_INFINITY;

  get frontier(): number {
    return this.at;
  }

  reset(frontier: number): void {
    this.at = frontier;
  }

  addEvent(buckets: Map<number, AnyTrafficBucket>, event: ClickEvent): number {
    const start = minuteOf(event.eventTs);
    let bucket = buckets.get(start);
    if (bucket === undefined || !('sessions' in bucket)) buckets.set(start, (bucket = newTrafficBucket()));
    bucket.clicks++;
    bucket.sessions.add(event.sessionId);
    bucket.docs.add(event.documentId);
    return start;
  }

  encode(bucket: AnyTrafficBucket): TrafficBucketData {
    return trafficToData(bucket);
  }

  decode(data: unknown): StoredTrafficBucket {
    return trafficFromData(data as TrafficBucketData);
  }

  advance(to: number, lookup: BucketLookup<AnyTrafficBucket>, starts: readonly number[]): KeyedRows<TrafficMinuteRow>[] {
    if (!(to > this.at)) return [];
    const out = this.rowsBetween(this.at, to, lookup, starts, true);
    this.at = to;
    return out;
  }

  provisional(until: number, lookup: BucketLookup<AnyTrafficBucket>, starts: readonly number[]): KeyedRows<TrafficMinuteRow>[] {
    return this.rowsBetween(this.at, until + 1, lookup, starts, false);
  }

  private rowsBetween(from: number, to: number, lookup: BucketLookup<AnyTrafficBucket>, starts: readonly number[], final: boolean): KeyedRows<TrafficMinuteRow>[] {
    const out: KeyedRows<TrafficMinuteRow>[] = [];
    for (let i = firstAtOrAfter(starts, from); i < starts.length && starts[i]! < to; i++) {
      const minute = starts[i]!;
      const row = combineTrafficBuckets(minute, lookup(minute));
      if (row !== null) out.push({ ts: minute, final, rows: [row] });
    }
    return out;
  }
}
