// The shape of what the hot path checkpoints per partition, and of what one micro-batch asks the
// sink to write — in one transaction, with the offsets.
import type {
  AnomalyRow,
  ClickEvent,
  DeadLetterReason,
  RawMessage,
} from '../marts/types.ts';
import type { AnomalyAlert, SessionAnomalySnapshot } from './anomaly-detector.ts';
import type { GroupBucketData, TitleMark } from './group-buckets.ts';

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
  /** Watermark of the partition's last owner at its last commit (−∞ when none). */
  readonly watermark: number;
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

export interface PartitionCommit {
  readonly source: string;
  readonly partition: number;
  /** Offset the stored checkpoint must still hold (fencing against another owner); null = none stored. */
  readonly expectedOffset: string | null;
  readonly nextOffset: string | null;
  readonly maxEventTs: number;
  readonly watermark: number;
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

/**
 * Partial aggregates of one source partition. Global marts (traffic, top docs, clinical trend)
 * are the combination of the partials of every partition — written by whichever instance owns
 * each partition — so several instances in a consumer group produce exact rows.
 * Sessions live in one partition (Kafka key), so distinct sessions add up across partitions;
 * distinct documents do not, hence the document ids of the traffic partial.
 */
export interface TrafficPartial {
  readonly source: string;
  readonly partition: number;
  readonly eventMinute: number;
  readonly clicks: number;
  readonly sessions: number;
  readonly documentIds: readonly string[];
  readonly final: boolean;
}

export interface TopDocPartial {
  readonly source: string;
  readonly partition: number;
  readonly snapshotTs: number;
  readonly documentId: string;
  readonly clicks: number;
  readonly sessions: number;
  readonly title: TitleMark | null;
}

export interface TrendPartial {
  readonly source: string;
  readonly partition: number;
  readonly snapshotTs: number;
  readonly clinicalArea: string;
  readonly clicks: number;
  readonly sessions: number;
  readonly previousClicks: number;
}

/** Snapshots of a partition that became final (every snapshot ≤ upTo). */
export interface PartitionFinality {
  readonly source: string;
  readonly partition: number;
  readonly topUpTo: number | null;
  readonly trendUpTo: number | null;
}

export interface BatchOutput {
  readonly trafficPartials: readonly TrafficPartial[];
  readonly topPartials: readonly TopDocPartial[];
  readonly trendPartials: readonly TrendPartial[];
  readonly finality: readonly PartitionFinality[];
  /** Keys whose combined mart rows must be recomputed from the partials. */
  readonly dirtyMinutes: readonly number[];
  readonly dirtyTopSnapshots: readonly number[];
  readonly dirtyTrendSnapshots: readonly number[];
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
