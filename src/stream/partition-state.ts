// Everything the hot path keeps for one source partition: its lateness bound, dedup ids, anomaly
// sessions and its buckets. Sessions live in one partition (Kafka key = session_id), so a
// partition's state moves between instances as a unit; the buckets it has finished are what
// the combiner folds into the global windows.
import type { AnomalyThresholds } from './anomaly-detector.ts';
import type { BucketKind } from './checkpoint-types.ts';
import type { GroupBucket } from './group-buckets.ts';
import { AnomalyOperator } from './operators/anomaly-operator.ts';
import type { AnyTrafficBucket } from './operators/traffic-operator.ts';

/** One kind of bucket of one partition, by start, with what the checkpoint already holds. */
export class BucketSeries<B> {
  readonly buckets = new Map<number, B>();
  /** Starts stored as final buckets. */
  readonly persisted = new Set<number>();
  /**
   * Starts in `buckets` not yet stored as final: the few open buckets a commit looks at, so that a
   * small batch costs what it changed rather than a pass over the whole window (48 h of trend buckets).
   */
  readonly open = new Set<number>();
  /** Open buckets changed since they were last stored provisionally (several instances only). */
  readonly changed = new Set<number>();

  /** Buckets before this start have given up their distinct sessions (forgetBefore). */
  private sessionsFrom = Number.NEGATIVE_INFINITY;

  /** A bucket an event went into (or restored from pending events): open until stored as final. */
  touched(start: number): void {
    if (!this.persisted.has(start)) this.open.add(start);
  }

  markPersisted(start: number): void {
    this.persisted.add(start);
    this.open.delete(start);
  }

  /** Hands every bucket before `start` not yet handed over to `forget`, once. */
  forgetBefore(start: number, forget: (bucket: B) => void): void {
    if (!(start > this.sessionsFrom)) return;
    for (const [s, bucket] of this.buckets) if (s < start && s >= this.sessionsFrom) forget(bucket);
    this.sessionsFrom = start;
  }

  dropBefore(start: number): void {
    for (const s of this.buckets.keys()) {
      if (s < start) {
        this.buckets.delete(s);
        this.persisted.delete(s);
        this.open.delete(s);
        this.changed.delete(s);
      }
    }
  }
}

export class PartitionState {
  readonly source: string;
  readonly partition: number;
  /** Offset the checkpoint holds (null: nothing committed yet): the fence for the next commit. */
  committedOffset: string | null;
  /** Offset of the last message processed (its successor is computed when asked: int64 stays exact). */
  private lastOffset: string | null = null;
  private next: string | null;
  /** Lateness bound as last committed: the next commit fences nothing but must not go lower. */
  committedBound = Number.NEGATIVE_INFINITY;
  /**
   * The checkpoint's next offset when this instance took the partition: the source may have been
   * positioned a moment earlier, before the previous owner's last commit, and then hands over
   * messages that commit already holds. Those are skipped (cleared at the first message past it).
   */
  skipBelow: string | null = null;
  /** The previous owner's bound: below it this partition's state is final already. */
  watermarkFloor = Number.NEGATIVE_INFINITY;
  /** The anomaly state as this instance last handed it to a commit (JSON; null: not yet). */
  committedAnomaly: string | null = null;
  /** The bound's minute when seenIds was last swept. */
  seenSweptAt = Number.NaN;
  /** event_id → event_ts of applied on-time events not yet below the bound. */
  readonly seenIds = new Map<string, number>();
  readonly traffic = new BucketSeries<AnyTrafficBucket>();
  readonly top = new BucketSeries<GroupBucket>();
  readonly trend = new BucketSeries<GroupBucket>();
  readonly anomaly: AnomalyOperator;

  constructor(source: string, partition: number, committedOffset: string | null, thresholds: AnomalyThresholds) {
    this.source = source;
    this.partition = partition;
    this.committedOffset = committedOffset;
    this.next = committedOffset;
    this.anomaly = new AnomalyOperator(thresholds);
  }

  /** Next offset to read after the messages processed so far. */
  get nextOffset(): string | null {
    if (this.lastOffset !== null) {
      this.next = String(BigInt(this.lastOffset) + 1n);
      this.lastOffset = null;
    }
    return this.next;
  }

  processed(offset: string): void {
    this.lastOffset = offset;
  }

  series(kind: BucketKind): BucketSeries<AnyTrafficBucket> | BucketSeries<GroupBucket> {
    return kind === 'traffic' ? this.traffic : kind === 'top' ? this.top : this.trend;
  }
}

export function partitionKey(source: string, partition: number): string {
  return `${source}#${partition}`;
}
