// Everything the hot path keeps for one source partition. Sessions live in one partition
// (Kafka key = session_id), so a partition's state — and the partial aggregates it writes —
// moves between instances as a unit.
import { AnomalyDetector } from './anomaly-detector.ts';
import type { AnomalyThresholds } from './anomaly-detector.ts';
import type { GroupBucket } from './group-buckets.ts';
import type { GroupValue, SlidingWindow } from './sliding-window.ts';

export interface TrafficBucket {
  clicks: number;
  readonly sessions: Set<string>;
  readonly docs: Set<string>;
}

/** A clinical area's partial in one snapshot. */
export interface TrendValue {
  readonly clicks: number;
  readonly sessions: number;
  readonly previous: number;
}

export class PartitionState {
  readonly source: string;
  readonly partition: number;
  /** Offset the checkpoint holds (null: nothing committed yet): the fence for the next commit. */
  committedOffset: string | null;
  /** Next offset to read after the messages processed so far. */
  nextOffset: string | null;
  /** event_id → event_ts of applied on-time events not yet below the watermark. */
  readonly seenIds = new Map<string, number>();
  /** Non-final minutes of mart_realtime_traffic_minute. */
  readonly trafficMinutes = new Map<number, TrafficBucket>();
  readonly dirtyMinutes = new Set<number>();
  /** Top-docs buckets (step TOP_DOCS_EVERY) by start. */
  readonly topBuckets = new Map<number, GroupBucket>();
  /** Clinical buckets (step CLINICAL_TREND_EVERY) by start. */
  readonly trendBuckets = new Map<number, GroupBucket>();
  /** Bucket starts already in the checkpoint as final blobs. */
  readonly persistedTop = new Set<number>();
  readonly persistedTrend = new Set<number>();
  top: SlidingWindow | null = null;
  trendCurrent: SlidingWindow | null = null;
  trendPrevious: SlidingWindow | null = null;
  /** Partial values last written per provisional snapshot, so only changes are written again. */
  readonly writtenTop = new Map<number, Map<string, GroupValue>>();
  readonly writtenTrend = new Map<number, Map<string, TrendValue>>();
  /** The previous owner's watermark: below it this partition's state is final already. */
  watermarkFloor = Number.NEGATIVE_INFINITY;
  /** Applied events since the last flush. */
  dirty = false;
  /** The newest snapshot horizon the provisional partials were computed for. */
  lastNewest = Number.NEGATIVE_INFINITY;
  readonly anomalies: AnomalyDetector;

  constructor(source: string, partition: number, committedOffset: string | null, thresholds: AnomalyThresholds) {
    this.source = source;
    this.partition = partition;
    this.committedOffset = committedOffset;
    this.nextOffset = committedOffset;
    this.anomalies = new AnomalyDetector(thresholds);
  }
}

export function partitionKey(source: string, partition: number): string {
  return `${source}#${partition}`;
}
