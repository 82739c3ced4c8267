// The contract every windowed hot mart implements. On the partition side it folds events into
// step-sized buckets of its own kind and gives their stored form; on the combining side, once a
// bucket is final for every partition, it folds the bucket into its global state and emits the
// mart's final rows. Beyond that frontier it evaluates provisional rows as an overlay of the open
// buckets, without changing its state. State is rebuilt from stored buckets (restore,
// rebalance), so an operator holds nothing that is not in the checkpoint. A new windowed hot mart
// is one such operator (and its table's writer in the sink).
import type { ClickEvent } from '../../marts/types.ts';

/** Every partition's bucket of one kind that starts at an instant. */
export type BucketLookup<B> = (start: number) => readonly B[];

/** The rows of one mart key (a minute, a snapshot instant), replaced as a unit. */
export interface KeyedRows<Row> {
  readonly ts: number;
  readonly final: boolean;
  readonly rows: readonly Row[];
}

export interface WindowedMartOperator<B, Row> {
  /** Bucket width; the operator's frontiers are multiples of it. */
  readonly stepMs: number;
  /** Adds an event to its bucket (made when missing) and returns the bucket's start. */
  addEvent(buckets: Map<number, B>, event: ClickEvent): number;
  /** The bucket's stored form (JSON). */
  encode(bucket: B): unknown;
  decode(data: unknown): B;
  /** Every bucket before this instant is folded in (−∞ before the first). */
  readonly frontier: number;
  /** How far back of the frontier buckets must be kept (the window's reach). */
  readonly reachMs: number;
  /**
   * Called once for every bucket that is final (it takes no more events), after its stored form
   * was taken: the operator may pack it for the rest of its life in memory.
   */
  settle?(bucket: B): void;
  /**
   * How far back of the frontier buckets need their distinct sessions; older ones (still within
   * reachMs) are given to forgetSessions, once. Unset: as far as reachMs.
   */
  readonly sessionsReachMs?: number;
  forgetSessions?(bucket: B): void;
  /** Starts over at a frontier from the stored buckets (restore, rebalance, another combiner). */
  reset(frontier: number, lookup: BucketLookup<B>): void;
  /**
   * Folds in the buckets before `to` (all final) and returns the final rows that became due.
   * `starts` lists every partition's bucket starts of this kind, ascending, to skip empty spans.
   */
  advance(to: number, lookup: BucketLookup<B>, starts: readonly number[]): KeyedRows<Row>[];
  /** Provisional rows for keys after the frontier up to `until`, from the open buckets. */
  provisional(until: number, lookup: BucketLookup<B>, starts: readonly number[]): KeyedRows<Row>[];
}

/**
 * The contract of a hot mart keyed within one partition (a session never spans partitions): no
 * buckets and no combiner. It folds events as they come, emits its row changes as the
 * partition's bound advances, and its snapshot (with the partition's applied-event log, replayed
 * through restoreEvent) restores it exactly.
 */
export interface PartitionMartOperator<Snapshot, Changes> {
  addEvent(event: ClickEvent, bound: number): void;
  /** Folds what the bound made final and appends the row changes since the last call. */
  advance(bound: number, into: Changes): void;
  snapshot(): Snapshot;
  restore(snapshot: Snapshot): void;
  /** Replays an event of the applied-event log after restore (it may lie before the bound). */
  restoreEvent(event: ClickEvent, bound: number): void;
}

/** Index of the first element ≥ value in an ascending array. */
export function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
