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
import type { KeyedRows } from './operators/hot-operator.ts';

export type BucketKind = 'traffic' | 'top' | 'trend';

/** A bucket in its stored form (the operator of its kind encodes and decodes `data`). */
export interface StoredBucket {
  readonly kind: BucketKind;
  readonly start: number;
  readonly final: boolean;
  readonly data: unknown;
}

/** Per bucket kind: traffic minutes, top-docs steps, clinical-trend steps. */
export interface Frontiers {
  readonly traffic: number;
  readonly top: number;
  readonly trend: number;
}

/** Everything needed to resume one partition without re-reading its history from the source. */
export interface PartitionCheckpoint {
  readonly source: string;
  readonly partition: number;
  readonly nextOffset: string | null;
  readonly maxEventTs: number;
  /** Lateness bound of the partition's last owner at its last commit (−∞ when none). */
  readonly watermark: number;
  readonly anomaly: Readonly<Record<string, SessionAnomalySnapshot>>;
  /** The partition's stored final buckets still inside some window. */
  readonly buckets: readonly StoredBucket[];
  /** Applied events with event_ts ≥ the partition's retain-from instant, in arrival order. */
  readonly pendingEvents: readonly ClickEvent[];
}

/** Another instance's partition as the combiner sees it: its committed bound and stored buckets. */
export interface ExternalPartitionUpdate {
  readonly partition: number;
  /** Committed lateness bound; null when the partition has no checkpoint yet. */
  readonly watermark: number | null;
  /** Blocks the combiner although it has no checkpoint (it holds unread messages). */
  readonly backlog: boolean;
  /** Buckets written since the combiner last read them (provisional ones replaced by later writes). */
  readonly buckets: readonly StoredBucket[];
}

export interface DeadLetter {
  readonly message: RawMessage;
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

export interface LateEvent {
  readonly message: RawMessage;
  readonly event: ClickEvent;
  /** The lateness bound the event fell below. */
  readonly watermark: number;
}

export interface PartitionCommit {
  /** Anything to write: new offsets, buckets or events, or a higher bound. */
  readonly changed: boolean;
  readonly source: string;
  readonly partition: number;
  /** Offset the stored checkpoint must still hold (fencing against another owner); null = none stored. */
  readonly expectedOffset: string | null;
  readonly nextOffset: string | null;
  readonly maxEventTs: number;
  /** The partition's lateness bound: its state is final below it. */
  readonly watermark: number;
  readonly retainFrom: number;
  /**
   * The anomaly operator's state; null when it is what this instance committed last for the
   * partition (the checkpoint keeps it: a large state is not rewritten every batch).
   */
  readonly anomaly: Readonly<Record<string, SessionAnomalySnapshot>> | null;
  readonly newPendingEvents: readonly ClickEvent[];
  /** Buckets that became final (and, with several instances, open ones that changed). */
  readonly newBuckets: readonly StoredBucket[];
}

/** What the combiner writes: rows replaced per key, and its frontiers, fenced on the stored ones. */
export interface MartWrites {
  readonly source: string;
  readonly expected: Frontiers | null;
  readonly next: Frontiers;
  readonly traffic: readonly KeyedRows<TrafficMinuteRow>[];
  readonly topDocs: readonly KeyedRows<TopDocRow>[];
  readonly clinicalTrend: readonly KeyedRows<ClinicalTrendRow>[];
  /** Keys whose rows are deleted before the rows above are inserted. */
  readonly replaceTraffic: readonly number[];
  readonly replaceTop: readonly number[];
  readonly replaceTrend: readonly number[];
  /** After a restart: rows at or after these keys are another run's provisional rows, deleted first. */
  readonly clearFrom: Frontiers | null;
  /** Stored buckets no window needs any more. */
  readonly dropBefore: Frontiers;
}

export interface BatchOutput {
  readonly marts: MartWrites | null;
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
