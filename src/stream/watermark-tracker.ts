// Event-time watermark across partitions, Flink-style: each partition tracks its max event_ts;
// the watermark is min over non-idle partitions of (max − delay), and never moves backwards.

export interface PartitionClock {
  /** Largest event_ts seen on the partition (−∞ before the first event). */
  maxEventTs: number;
  /** Wall clock of the partition's last message (or of its assignment). */
  lastActivityAt: number;
  /**
   * The log holds offsets not read yet (known from the log's end offsets). Such a partition is
   * never idle, however long its fetches take: otherwise a slow fetch after a rebalance or under
   * load would let the others' event time run ahead and turn its backlog into late events.
   */
  backlog: boolean;
}

/** A partition another instance owns, as its last commit left it. */
export interface ExternalPartitionClock {
  readonly partition: number;
  readonly maxEventTs: number;
  /** Wall clock of that commit. */
  readonly committedAt: number;
  /**
   * Nothing left to read in the log. Only a caught-up partition can be idle: one with a backlog
   * (its owner is slow, or it is between owners during a rebalance) keeps holding the watermark.
   */
  readonly caughtUp: boolean;
}

export class WatermarkTracker {
  private readonly partitions = new Map<number, PartitionClock>();
  /** The group's other partitions: the watermark is the min over all of the group's live partitions. */
  private external: readonly ExternalPartitionClock[] = [];
  private current: number;
  private lastRecomputeAt = Number.NEGATIVE_INFINITY;
  private readonly delayMs: number;
  private readonly idleTimeoutMs: number;

  constructor(options: { delayMs: number; idleTimeoutMs: number; initialWatermark?: number }) {
    this.delayMs = options.delayMs;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.current = options.initialWatermark ?? Number.NEGATIVE_INFINITY;
  }

  get watermark(): number {
    return this.current;
  }

  /** Largest event_ts over the tracked partitions (−∞ when none). */
  get maxEventTs(): number {
    let max = Number.NEGATIVE_INFINITY;
    for (const clock of this.partitions.values()) if (clock.maxEventTs > max) max = clock.maxEventTs;
    return max;
  }

  /** Largest event_ts over the whole group: the newest snapshot horizon. */
  get groupMaxEventTs(): number {
    let max = this.maxEventTs;
    for (const clock of this.external) if (clock.maxEventTs > max) max = clock.maxEventTs;
    return max;
  }

  /**
   * How far even the slowest local partition runs ahead of the slowest live external one (0 when
   * not ahead). The slowest local one decides: an instance with one partition behind keeps
   * consuming (the aligner feeds that one first), so two instances can never wait for each other.
   */
  get leadOverExternal(): number {
    if (this.external.length === 0) return 0;
    const now = this.lastRecomputeAt;
    let slowestExternal = Number.POSITIVE_INFINITY;
    for (const clock of this.external) {
      if (this.externalIdle(clock, now)) continue;
      if (clock.maxEventTs < slowestExternal) slowestExternal = clock.maxEventTs;
    }
    let slowestLocal = Number.POSITIVE_INFINITY;
    for (const clock of this.partitions.values()) {
      if (this.localIdle(clock, now)) continue;
      if (clock.maxEventTs < slowestLocal) slowestLocal = clock.maxEventTs;
    }
    const lead = slowestLocal - slowestExternal;
    return Number.isFinite(lead) && lead > 0 ? lead : 0;
  }

  private localIdle(clock: PartitionClock, now: number): boolean {
    return !clock.backlog && now - clock.lastActivityAt >= this.idleTimeoutMs;
  }

  /** Marks whether the partition still has unread offsets in the log (see PartitionClock.backlog). */
  setBacklog(partition: number, backlog: boolean): void {
    const clock = this.partitions.get(partition);
    if (clock !== undefined) clock.backlog = backlog;
  }

  private externalIdle(clock: ExternalPartitionClock, now: number): boolean {
    return clock.caughtUp && now - clock.committedAt >= this.idleTimeoutMs;
  }

  setExternal(clocks: readonly ExternalPartitionClock[]): void {
    this.external = clocks;
  }

  /** A partition starts blocking the watermark as soon as it is owned, until it goes idle. */
  track(partition: number, maxEventTs: number, now: number): void {
    this.partitions.set(partition, { maxEventTs, lastActivityAt: now, backlog: false });
  }

  /**
   * The partition leaves this instance (revoked). Until the group's clocks are read again it
   * still holds the watermark where this instance left it: between two owners it is neither
   * ours nor, yet, anyone else's, and must not drop out of the minimum.
   */
  untrack(partition: number): void {
    const clock = this.partitions.get(partition);
    this.partitions.delete(partition);
    if (clock === undefined) return;
    const handedOver: ExternalPartitionClock = { partition, maxEventTs: clock.maxEventTs, committedAt: Number.POSITIVE_INFINITY, caughtUp: false };
    this.external = [...this.external.filter((c) => c.partition !== partition), handedOver];
  }

  partitionMax(partition: number): number {
    return this.partitions.get(partition)?.maxEventTs ?? Number.NEGATIVE_INFINITY;
  }

  /** Records an on-time-or-late valid event and returns the new watermark. */
  observe(partition: number, eventTs: number, now: number): number {
    let clock = this.partitions.get(partition);
    if (clock === undefined) {
      clock = { maxEventTs: Number.NEGATIVE_INFINITY, lastActivityAt: now, backlog: false };
      this.partitions.set(partition, clock);
    }
    clock.lastActivityAt = now;
    if (eventTs > clock.maxEventTs) {
      clock.maxEventTs = eventTs;
      this.recompute(now);
    }
    return this.current;
  }

  /**
   * Records a valid event without re-evaluating the watermark (the processor's per-event path;
   * the batch's flush re-evaluates it). Nothing within a batch needs the newer value: an active
   * partition's own bound is never below the watermark, which is a minimum that includes it.
   */
  record(partition: number, eventTs: number, now: number): void {
    const clock = this.partitions.get(partition);
    if (clock === undefined) {
      this.observe(partition, eventTs, now);
      return;
    }
    clock.lastActivityAt = now;
    if (eventTs > clock.maxEventTs) clock.maxEventTs = eventTs;
  }

  /** Marks wall-clock activity (a message that was not a valid event still proves liveness). */
  touch(partition: number, now: number): void {
    const clock = this.partitions.get(partition);
    if (clock !== undefined) clock.lastActivityAt = now;
  }

  /** Re-evaluates idleness; call periodically so an idle partition stops holding the watermark back. */
  recompute(now: number): number {
    this.lastRecomputeAt = now;
    let min = Number.POSITIVE_INFINITY;
    let anyActive = false;
    for (const clock of this.partitions.values()) {
      if (this.localIdle(clock, now)) continue;
      anyActive = true;
      if (clock.maxEventTs < min) min = clock.maxEventTs;
    }
    for (const clock of this.external) {
      if (this.externalIdle(clock, now)) continue;
      if (clock.maxEventTs < min) min = clock.maxEventTs;
    }
    // With every partition idle nothing proves time has moved on: hold the watermark (as Flink does).
    if (!anyActive) return this.current;
    const candidate = min - this.delayMs;
    if (candidate > this.current) this.current = candidate;
    return this.current;
  }

  /** End of a bounded source: every window becomes final. */
  finish(): void {
    this.current = Number.POSITIVE_INFINITY;
  }
}
