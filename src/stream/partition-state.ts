// Everything the hot path keeps for one source partition. Sessions live in one partition
// (Kafka key = session_id), so a partition's state moves between instances as a unit.
import { AnomalyDetector } from './anomaly-detector.ts';
import type { AnomalyThresholds } from './anomaly-detector.ts';
import type { GroupBucket } from './group-buckets.ts';

export interface TrafficBucket {
  clicks: number;
  readonly sessions: Set<string>;
  readonly docs: Set<string>;
}

export class PartitionState {
  readonly source: string;
  readonly partition: number;
  /** Offset the checkpoint says this batch starts from (null: nothing committed yet). */
  committedOffset: string | null;
  /** Next offset to read after the messages processed so far. */
  nextOffset: string | null;
  /** event_id → event_ts of applied on-time events not yet below the watermark. */
  readonly seenIds = new Map<string, number>();
  /** Non-final minutes of mart_realtime_traffic_minute. */
  readonly trafficMinutes = new Map<number, TrafficBucket>();
  /** Top-docs buckets (step TOP_DOCS_EVERY) by start. */
  readonly topBuckets = new Map<number, GroupBucket>();
  /** Clinical buckets (step CLINICAL_TREND_EVERY) by start. */
  readonly trendBuckets = new Map<number, GroupBucket>();
  /** Bucket starts already in the checkpoint as final blobs. */
  readonly persistedTop = new Set<number>();
  readonly persistedTrend = new Set<number>();
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
