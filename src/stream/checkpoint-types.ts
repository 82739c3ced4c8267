// The shape of what the hot path checkpoints per partition, and of what one micro-batch asks the
// sink to write — in one transaction, with the offsets.
import type {
  AnomalyRow,
  ClickEvent,
  ClinicalTrendRow,
  DeadLetterReason,
  RawMessage,
  TopDocRow,
  TrafficMinuteRow,
} from '../marts/types.ts';
import type { AnomalyAlert, SessionAnomalySnapshot } from './anomaly-detector.ts';
import type { GroupBucketData } from './group-buckets.ts';

export type BucketKind = 'top' | 'trend';

export interface StoredBucket {
  readonly kind: BucketKind;
  readonly start: number;
  readonly data: GroupBucketData;
}

/** Everything needed to resume one partition without re-reading its history from the source. */
export interface PartitionCheckpoint {
  readonly source: string;
  readonly partition: number;
  readonly nextOffset: string | null;
  readonly maxEventTs: number;
  readonly topFrontier: number | null;
  readonly trendFrontier: number | null;
  readonly anomaly: Readonly<Record<string, SessionAnomalySnapshot>>;
  readonly buckets: readonly StoredBucket[];
  /** Applied events with event_ts ≥ the partition's retain-from instant, in arrival order. */
  readonly pendingEvents: readonly ClickEvent[];
}

export interface DeadLetter {
  readonly message: RawMessage;
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

export interface LateEvent {
  readonly message: RawMessage;
  readonly event: ClickEvent;
  readonly watermark: number;
}

export interface SnapshotRows<Row> {
  readonly snapshotTs: number;
  readonly final: boolean;
  readonly rows: readonly Row[];
}

export interface PartitionCommit {
  readonly source: string;
  readonly partition: number;
  /** Offset the stored checkpoint must still hold (fencing against another owner); null = none stored. */
  readonly expectedOffset: string | null;
  readonly nextOffset: string | null;
  readonly maxEventTs: number;
  readonly topFrontier: number | null;
  readonly trendFrontier: number | null;
  readonly retainFrom: number;
  readonly anomaly: Readonly<Record<string, SessionAnomalySnapshot>>;
  readonly newPendingEvents: readonly ClickEvent[];
  readonly newBuckets: readonly StoredBucket[];
  /** Stored buckets that left every window: delete those that start before these instants. */
  readonly dropTopBefore: number | null;
  readonly dropTrendBefore: number | null;
}

export interface BatchOutput {
  readonly traffic: readonly { readonly row: TrafficMinuteRow; readonly final: boolean }[];
  readonly topDocs: readonly SnapshotRows<TopDocRow>[];
  readonly clinicalTrend: readonly SnapshotRows<ClinicalTrendRow>[];
  readonly anomalyUpserts: readonly { readonly row: AnomalyRow; readonly final: boolean }[];
  readonly anomalyDeletes: readonly { readonly sessionId: string; readonly detectedTs: number }[];
  readonly deadLetters: readonly DeadLetter[];
  readonly lateEvents: readonly LateEvent[];
  readonly alerts: readonly AnomalyAlert[];
  readonly duplicates: number;
  readonly applied: number;
  readonly watermark: number;
  readonly partitions: readonly PartitionCommit[];
}
