// The hot path's core. Per partition: lateness (the partition's own bound, SPEC §3), dedup,
// buckets per mart and anomaly episodes. Per source: one combiner — in the instance that owns
// the lowest partition — folds every partition's finished buckets into the global windows and
// emits the mart rows, final ones once and provisional ones as overlays. Each flush returns what
// the sink must commit in one transaction. Pure: no I/O, the clock is passed in.
import { parseRawMessage } from '../marts/event-contract.ts';
import type { ClickEvent, MartSettings, RawMessage, TrafficMinuteRow } from '../marts/types.ts';
import { MINUTE_MS, compareDecimalIds, floorTo, minuteOf, nextBoundaryAfter } from '../marts/window-math.ts';
import type {
  BatchOutput,
  BucketKind,
  DeadLetter,
  ExternalPartitionUpdate,
  Frontiers,
  LateEvent,
  MartWrites,
  PartitionCheckpoint,
  PartitionCommit,
  StoredBucket,
} from './checkpoint-types.ts';
import { SessionIdInterner } from './group-buckets.ts';
import type { GroupBucket } from './group-buckets.ts';
import { ClinicalTrendOperator } from './operators/clinical-trend-operator.ts';
import type { BucketLookup, KeyedRows, WindowedMartOperator } from './operators/hot-operator.ts';
import { TopDocsOperator } from './operators/top-docs-operator.ts';
import { TrafficOperator } from './operators/traffic-operator.ts';
import type { AnyTrafficBucket } from './operators/traffic-operator.ts';
import type { SessionAnomalySnapshot } from './anomaly-detector.ts';
import type { AnomalyChanges } from './operators/anomaly-operator.ts';
import { BucketSeries, PartitionState, partitionKey } from './partition-state.ts';
import { WatermarkTracker } from './watermark-tracker.ts';
import type { ExternalPartitionClock } from './watermark-tracker.ts';

export interface StreamSettings {
  readonly marts: MartSettings;
  readonly watermarkDelayMs: number;
  readonly maxFutureSkewMs: number;
  readonly idlePartitionTimeoutMs: number;
}

export type Clock = () => number;

export interface FlushOptions {
  /** The group's partitions as committed (other instances' included). */
  readonly groupClocks?: readonly ExternalPartitionClock[];
  /** The log's end offsets per partition: an owned partition with unread offsets never goes idle. */
  readonly logEnds?: ReadonlyMap<number, string>;
  /** Evaluate provisional rows (default true); a runner reading a backlog does so now and then. */
  readonly provisional?: boolean;
  /** Other instances' partitions: committed bounds and the buckets they wrote since the last read. */
  readonly external?: readonly ExternalPartitionUpdate[];
  /** The combiner's frontiers as stored; instances that do not combine prune their buckets by them. */
  readonly storedFrontiers?: Frontiers | null;
}

interface BatchAccumulator {
  deadLetters: DeadLetter[];
  lateEvents: LateEvent[];
  duplicates: number;
  applied: number;
  newPending: Map<PartitionState, ClickEvent[]>;
}

interface ExternalPartition {
  watermark: number | null;
  backlog: boolean;
  readonly traffic: BucketSeries<AnyTrafficBucket>;
  readonly top: BucketSeries<GroupBucket>;
  readonly trend: BucketSeries<GroupBucket>;
}

function emptyBatch(): BatchAccumulator {
  return { deadLetters: [], lateEvents: [], duplicates: 0, applied: 0, newPending: new Map() };
}

const KINDS: readonly BucketKind[] = ['traffic', 'top', 'trend'];

function mapFrontiers(f: (kind: BucketKind) => number): Frontiers {
  return { traffic: f('traffic'), top: f('top'), trend: f('trend') };
}

export class StreamProcessor {
  private readonly settings: StreamSettings;
  private readonly clock: Clock;
  private readonly tracker: WatermarkTracker;
  private readonly states = new Map<string, PartitionState>();
  private readonly external = new Map<number, ExternalPartition>();
  private readonly steps: Frontiers;
  private readonly trafficOp = new TrafficOperator();
  private readonly topOp: TopDocsOperator;
  private readonly trendOp: ClinicalTrendOperator;
  /** Frontiers as the database holds them (null: never stored). */
  private storedFrontiers: Frontiers | null;
  /** The operators hold the windows at the current frontiers (false: rebuild before use). */
  private combinerReady = false;
  /** Rows at or after the stored frontiers may be another run's provisional rows: clear them once. */
  private clearPending = true;
  /** Provisional rows as last written, per key (JSON): unchanged ones are not written again. */
  private readonly provisionalRows = { traffic: new Map<number, string>(), top: new Map<number, string>(), trend: new Map<number, string>() };
  private finished = false;
  /** Open buckets are shared through the database (other instances own partitions of the group). */
  private sharing = false;
  private groupPartitions: readonly number[] = [];
  private batch = emptyBatch();

  constructor(settings: StreamSettings, clock: Clock, options: { initialWatermark?: number; combinerFrontiers?: Frontiers | null } = {}) {
    this.settings = settings;
    this.clock = clock;
    this.steps = { traffic: MINUTE_MS, top: settings.marts.topDocsEveryMs, trend: settings.marts.clinicalTrendEveryMs };
    // One interner for both: the top docs and the trend hold the same sessions' ids.
    const interner = new SessionIdInterner();
    this.topOp = new TopDocsOperator(this.steps.top, interner);
    this.trendOp = new ClinicalTrendOperator(this.steps.trend, interner);
    this.storedFrontiers = options.combinerFrontiers ?? null;
    this.tracker = new WatermarkTracker({
      delayMs: settings.watermarkDelayMs,
      idleTimeoutMs: settings.idlePartitionTimeoutMs,
      ...(options.initialWatermark === undefined ? {} : { initialWatermark: options.initialWatermark }),
    });
  }

  get watermark(): number {
    return this.tracker.watermark;
  }

  get maxEventTs(): number {
    return this.tracker.maxEventTs;
  }

  /** How far this instance's partitions are ahead of the slowest live partition of the group. */
  get leadOverGroup(): number {
    return this.tracker.leadOverExternal;
  }

  ownedPartitions(): { source: string; partition: number }[] {
    return [...this.states.values()].map((s) => ({ source: s.source, partition: s.partition }));
  }

  /** True when this instance runs the combiner: it owns the group's lowest partition. */
  get combines(): boolean {
    let lowestOwned = Number.POSITIVE_INFINITY;
    for (const s of this.states.values()) lowestOwned = Math.min(lowestOwned, s.partition);
    if (!Number.isFinite(lowestOwned)) return false;
    for (const p of this.groupPartitions) if (p < lowestOwned && !this.ownsPartition(p)) return false;
    for (const p of this.external.keys()) if (p < lowestOwned) return false;
    return true;
  }

  /** Other partitions of the group exist: open buckets must be shared through the database. */
  get shared(): boolean {
    return this.groupPartitions.some((p) => !this.ownsPartition(p)) || this.external.size > 0;
  }

  private ownsPartition(partition: number): boolean {
    for (const state of this.states.values()) if (state.partition === partition) return true;
    return false;
  }

  /** Takes ownership of a partition and restores its state from the checkpoint. */
  assign(checkpoint: PartitionCheckpoint): void {
    this.lastState = undefined;
    const state = new PartitionState(checkpoint.source, checkpoint.partition, checkpoint.nextOffset, this.thresholds());
    this.states.set(partitionKey(checkpoint.source, checkpoint.partition), state);
    this.external.delete(checkpoint.partition);
    this.tracker.track(checkpoint.partition, checkpoint.maxEventTs, this.clock());
    state.watermarkFloor = checkpoint.watermark;
    state.committedBound = checkpoint.watermark;
    state.skipBelow = checkpoint.nextOffset;
    const bound = this.boundOf(state);
    for (const stored of checkpoint.buckets) {
      if (!stored.final) continue;
      this.storeBucket(state, stored);
      state.series(stored.kind).markPersisted(stored.start);
    }
    state.anomaly.restore(checkpoint.anomaly);
    for (const event of checkpoint.pendingEvents) {
      for (const kind of KINDS) {
        const start = floorTo(event.eventTs, this.steps[kind]);
        const series = state.series(kind);
        if (!series.persisted.has(start) && start >= floorTo(state.watermarkFloor, this.steps[kind])) {
          series.touched(this.operator(kind).addEvent(series.buckets as Map<number, unknown>, event));
        }
      }
      if (event.eventTs >= bound) state.seenIds.set(event.eventId, event.eventTs);
      state.anomaly.restoreEvent(event, bound);
    }
    // The previous owner may not have shared its latest open buckets before it lost the partition:
    // share the restored ones again (with one instance nothing reads them).
    for (const kind of KINDS) {
      const series = state.series(kind);
      for (const start of series.open) series.changed.add(start);
    }
    this.combinerReady = false;
  }

  /** Drops a partition that moved to another instance; its last commit holds its state. */
  revoke(source: string, partition: number): void {
    const key = partitionKey(source, partition);
    const state = this.states.get(key);
    if (state === undefined) return;
    this.lastState = undefined;
    this.states.delete(key);
    this.tracker.untrack(partition);
    this.batch.newPending.delete(state);
    this.combinerReady = false;
  }

  /** The combiner's frontiers as stored, read when the first partition of a source is assigned. */
  restoreCombiner(frontiers: Frontiers | null): void {
    this.storedFrontiers = frontiers;
    this.combinerReady = false;
    this.clearPending = true;
  }

  /** Messages between the owned partitions' next offsets and the log's ends. */
  lagBehind(logEnds: ReadonlyMap<number, string>): bigint {
    let lag = 0n;
    for (const state of this.states.values()) {
      const end = logEnds.get(state.partition);
      if (end === undefined) continue;
      const next = BigInt(state.nextOffset ?? '0');
      if (BigInt(end) > next) lag += BigInt(end) - next;
    }
    return lag;
  }

  /** Forgets the other instances' buckets (they are read again from the start). */
  resetExternal(): void {
    this.external.clear();
    this.combinerReady = false;
  }

  process(messages: readonly RawMessage[], heldBack?: ReadonlyMap<number, number>): void {
    // One clock reading per batch: the batch is one step of the processor (and one commit).
    const now = this.clock();
    for (let i = 0; i < messages.length; i++) this.processOne(messages[i]!, now);
    if (heldBack !== undefined) {
      // Read ahead but held back by the aligner: counts as the partition's progress already.
      for (const [partition, eventTs] of heldBack) if (this.ownsPartition(partition)) this.tracker.observe(partition, eventTs, now);
    }
  }

  /** End of a bounded source: the watermark becomes +∞ and every window final. */
  finish(): void {
    this.finished = true;
    this.tracker.finish();
  }

  /**
   * The partition's lateness bound (SPEC §3): the greater of its own watermark (its max event
   * time − delay) and the global watermark, and never below what its previous owner committed.
   */
  private boundOf(state: PartitionState): number {
    if (this.finished) return Number.POSITIVE_INFINITY;
    const own = this.tracker.partitionMax(state.partition) - this.settings.watermarkDelayMs;
    return Math.max(own, this.tracker.watermark, state.watermarkFloor);
  }

  /** The partition of the previous message (a batch comes in runs of one partition); reset on assign and revoke. */
  private lastState: PartitionState | undefined;

  private stateOf(message: RawMessage): PartitionState | undefined {
    const last = this.lastState;
    if (last !== undefined && last.partition === message.partition && last.source === message.source) return last;
    this.lastState = this.states.get(partitionKey(message.source, message.partition));
    return this.lastState;
  }

  private processOne(message: RawMessage, now: number): void {
    const state = this.stateOf(message);
    if (state === undefined) throw new Error(`message for unassigned partition ${message.source}#${message.partition}`);
    if (state.skipBelow !== null) {
      if (compareDecimalIds(message.offset, state.skipBelow) < 0) return;
      state.skipBelow = null;
    }
    state.processed(message.offset);
    const outcome = parseRawMessage(message.value, { nowMs: now, maxFutureSkewMs: this.settings.maxFutureSkewMs });
    if (!outcome.ok) {
      this.batch.deadLetters.push({ message, reason: outcome.reason, detail: outcome.detail });
      this.tracker.touch(message.partition, now);
      return;
    }
    const event = outcome.event;
    const bound = this.boundOf(state);
    // Late is decided before dedup: a late duplicate is recorded as late (the cold path dedups).
    if (event.eventTs < bound) {
      this.batch.lateEvents.push({ message, event, watermark: bound });
      this.tracker.touch(message.partition, now);
      return;
    }
    if (state.seenIds.has(event.eventId)) {
      this.batch.duplicates++;
      this.tracker.record(message.partition, event.eventTs, now);
      return;
    }
    this.apply(state, event, bound);
    this.tracker.record(message.partition, event.eventTs, now);
  }

  private apply(state: PartitionState, event: ClickEvent, bound: number): void {
    state.seenIds.set(event.eventId, event.eventTs);
    for (const kind of KINDS) {
      const series = state.series(kind);
      const start = this.operator(kind).addEvent(series.buckets as Map<number, unknown>, event);
      series.touched(start);
      if (this.sharing) series.changed.add(start);
    }
    state.anomaly.addEvent(event, bound);
    const batch = this.batch;
    let pending = batch.newPending.get(state);
    if (pending === undefined) batch.newPending.set(state, (pending = []));
    pending.push(event);
    batch.applied++;
  }

  private operator(kind: BucketKind): WindowedMartOperator<unknown, unknown> {
    const op = kind === 'traffic' ? this.trafficOp : kind === 'top' ? this.topOp : this.trendOp;
    return op as unknown as WindowedMartOperator<unknown, unknown>;
  }

  /** Decodes a stored bucket into the series; a final one is settled (it takes no more events). */
  private storeBucket(target: { traffic: BucketSeries<AnyTrafficBucket>; top: BucketSeries<GroupBucket>; trend: BucketSeries<GroupBucket> }, stored: StoredBucket): void {
    const op = this.operator(stored.kind);
    const bucket = op.decode(stored.data);
    (target[stored.kind] as BucketSeries<unknown>).buckets.set(stored.start, bucket);
    if (stored.final) op.settle?.(bucket);
  }

  private applyExternal(updates: readonly ExternalPartitionUpdate[]): void {
    for (const update of updates) {
      if (this.ownsPartition(update.partition)) continue;
      let ext = this.external.get(update.partition);
      if (ext === undefined) {
        ext = { watermark: null, backlog: false, traffic: new BucketSeries(), top: new BucketSeries(), trend: new BucketSeries() };
        this.external.set(update.partition, ext);
      }
      ext.watermark = update.watermark;
      ext.backlog = update.backlog;
      for (const stored of update.buckets) this.storeBucket(ext, stored);
    }
  }

  /** Computes what this batch changed and returns it for one transactional commit. */
  flush(options: FlushOptions = {}): BatchOutput {
    const now = this.clock();
    if (options.groupClocks !== undefined) {
      this.tracker.setExternal(options.groupClocks.filter((c) => !this.ownsPartition(c.partition)));
      this.groupPartitions = options.groupClocks.map((c) => c.partition);
    }
    if (options.logEnds !== undefined) {
      this.groupPartitions = [...new Set([...this.groupPartitions, ...options.logEnds.keys()])];
      for (const state of this.states.values()) {
        const end = options.logEnds.get(state.partition);
        this.tracker.setBacklog(state.partition, end !== undefined && BigInt(state.nextOffset ?? '0') < BigInt(end));
      }
    }
    if (options.external !== undefined) this.applyExternal(options.external);
    const shared = this.shared;
    if (shared && !this.sharing) {
      // Other instances joined: every open bucket is news to their combiner.
      for (const state of this.states.values()) {
        for (const kind of KINDS) {
          const series = state.series(kind);
          for (const start of series.open) series.changed.add(start);
        }
      }
    }
    this.sharing = shared;
    if (options.storedFrontiers !== undefined && !this.combines) this.storedFrontiers = options.storedFrontiers;
    const watermark = this.tracker.recompute(now);

    const anomaly: AnomalyChanges = { upserts: [], deletes: [], alerts: [] };
    const bounds = new Map<PartitionState, number>();
    for (const state of this.states.values()) bounds.set(state, this.boundOf(state));

    for (const [state, bound] of bounds) {
      // Once per bound minute, ids below the bound (they can no longer arrive on time) are forgotten.
      const sweepAt = Number.isFinite(bound) ? floorTo(bound, MINUTE_MS) : bound;
      if (sweepAt !== state.seenSweptAt) {
        state.seenSweptAt = sweepAt;
        const seen = state.seenIds;
        seen.forEach((ts, id) => {
          if (ts < bound) seen.delete(id);
        });
      }
      state.anomaly.advance(bound, anomaly);
    }

    const provisional = options.provisional ?? true;
    const partitions: PartitionCommit[] = [];
    for (const [state, bound] of bounds) partitions.push(this.partitionCommit(state, bound, provisional && shared));
    const marts = this.combines ? this.combine(bounds, provisional) : null;
    const frontiers = marts?.next ?? this.storedFrontiers;
    if (frontiers !== null) {
      const dropBefore = this.dropBefore(frontiers);
      for (const state of this.states.values()) for (const kind of KINDS) state.series(kind).dropBefore(dropBefore[kind]);
      for (const ext of this.external.values()) for (const kind of KINDS) ext[kind].dropBefore(dropBefore[kind]);
      this.forgetSessionsBefore(frontiers);
    }

    const output: BatchOutput = {
      marts,
      anomalyUpserts: anomaly.upserts,
      anomalyDeletes: anomaly.deletes,
      deadLetters: this.batch.deadLetters,
      lateEvents: this.batch.lateEvents,
      alerts: anomaly.alerts,
      duplicates: this.batch.duplicates,
      applied: this.batch.applied,
      watermark,
      partitions,
    };
    for (const state of this.states.values()) {
      state.committedOffset = state.nextOffset;
      state.committedBound = bounds.get(state) ?? state.committedBound;
    }
    this.batch = emptyBatch();
    return output;
  }

  /**
   * Buckets the distinct-session windows have passed keep only their counts. Frontiers never go
   * back (a failed commit rebuilds the processor from the checkpoint), so no window needs them again.
   */
  private forgetSessionsBefore(frontiers: Frontiers): void {
    for (const kind of KINDS) {
      const op = this.operator(kind);
      if (op.sessionsReachMs === undefined || op.forgetSessions === undefined || !Number.isFinite(frontiers[kind])) continue;
      const before = frontiers[kind] - op.sessionsReachMs;
      const forget = op.forgetSessions.bind(op);
      for (const state of this.states.values()) state.series(kind).forgetBefore(before, forget);
      for (const ext of this.external.values()) ext[kind].forgetBefore(before, forget);
    }
  }

  private dropBefore(frontiers: Frontiers): Frontiers {
    return {
      traffic: frontiers.traffic,
      top: frontiers.top - this.topOp.reachMs,
      trend: frontiers.trend - this.trendOp.reachMs,
    };
  }

  private lookup<B>(kind: BucketKind): BucketLookup<B> {
    const series: BucketSeries<B>[] = [];
    for (const state of this.states.values()) series.push(state.series(kind) as unknown as BucketSeries<B>);
    for (const ext of this.external.values()) series.push(ext[kind] as unknown as BucketSeries<B>);
    return (start) => {
      const out: B[] = [];
      for (const s of series) {
        const b = s.buckets.get(start);
        if (b !== undefined) out.push(b);
      }
      return out;
    };
  }

  private starts(kind: BucketKind): number[] {
    const all = new Set<number>();
    for (const state of this.states.values()) for (const s of state.series(kind).buckets.keys()) all.add(s);
    for (const ext of this.external.values()) for (const s of ext[kind].buckets.keys()) all.add(s);
    return [...all].sort((a, b) => a - b);
  }

  /** The combiner's next frontier per kind: the least of every partition's finished instant. */
  private reachable(bounds: ReadonlyMap<PartitionState, number>): Frontiers {
    return mapFrontiers((kind) => {
      const step = this.steps[kind];
      let least = Number.POSITIVE_INFINITY;
      for (const bound of bounds.values()) least = Math.min(least, Number.isFinite(bound) ? floorTo(bound, step) : bound);
      for (const [partition, ext] of this.external) {
        if (this.ownsPartition(partition)) continue;
        if (ext.watermark === null) {
          if (ext.backlog) least = Number.NEGATIVE_INFINITY;
        } else {
          least = Math.min(least, Number.isFinite(ext.watermark) ? floorTo(ext.watermark, step) : ext.watermark);
        }
      }
      return least;
    });
  }

  private combine(bounds: ReadonlyMap<PartitionState, number>, provisional: boolean): MartWrites {
    const lookups = { traffic: this.lookup<AnyTrafficBucket>('traffic'), top: this.lookup<GroupBucket>('top'), trend: this.lookup<GroupBucket>('trend') };
    const starts = { traffic: this.starts('traffic'), top: this.starts('top'), trend: this.starts('trend') };
    if (!this.combinerReady) {
      const from = this.storedFrontiers ?? { traffic: this.trafficOp.frontier, top: this.topOp.frontier, trend: this.trendOp.frontier };
      this.trafficOp.reset(from.traffic);
      this.topOp.reset(from.top, lookups.top);
      this.trendOp.reset(from.trend, lookups.trend);
      this.combinerReady = true;
    }
    const expected = this.storedFrontiers;
    const reachable = this.reachable(bounds);
    const traffic: KeyedRows<TrafficMinuteRow>[] = this.trafficOp.advance(reachable.traffic, lookups.traffic, starts.traffic);
    const topDocs = this.topOp.advance(reachable.top, lookups.top, starts.top);
    const clinicalTrend = this.trendOp.advance(reachable.trend, lookups.trend, starts.trend);
    // At the end of a bounded source every key is final: the stored frontiers say so (+∞).
    const next: Frontiers = mapFrontiers((kind) => (reachable[kind] === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.operator(kind).frontier));

    const replace = { traffic: traffic.map((r) => r.ts), top: topDocs.map((r) => r.ts), trend: clinicalTrend.map((r) => r.ts) };
    // Provisional rows the frontier has passed go, whether or not a final row replaces them.
    const firstOpen = this.firstOpenKeys(next);
    for (const kind of KINDS) {
      for (const key of this.provisionalRows[kind].keys()) {
        if (key < firstOpen[kind]) {
          replace[kind].push(key);
          this.provisionalRows[kind].delete(key);
        }
      }
    }
    const newest = this.newestEventTs();
    if (provisional && Number.isFinite(newest)) {
      const provTraffic = this.trafficOp.provisional(minuteOf(newest), lookups.traffic, starts.traffic);
      const provTop = this.topOp.provisional(nextBoundaryAfter(newest, this.steps.top), lookups.top, starts.top);
      const provTrend = this.trendOp.provisional(nextBoundaryAfter(newest, this.steps.trend), lookups.trend, starts.trend);
      // Only keys whose rows changed are rewritten: on the embedded database every rewrite is a
      // dead row until the next vacuum.
      const rewrite = <R>(kind: BucketKind, rows: readonly KeyedRows<R>[], into: KeyedRows<R>[]): void => {
        const written = this.provisionalRows[kind];
        const current = new Set<number>();
        for (const r of rows) {
          current.add(r.ts);
          const text = JSON.stringify(r.rows);
          if (written.get(r.ts) === text) continue;
          written.set(r.ts, text);
          replace[kind].push(r.ts);
          into.push(r);
        }
        for (const key of written.keys()) {
          if (current.has(key)) continue;
          written.delete(key);
          replace[kind].push(key);
        }
      };
      rewrite('traffic', provTraffic, traffic);
      rewrite('top', provTop, topDocs);
      rewrite('trend', provTrend, clinicalTrend);
    }
    const clearFrom = this.clearPending && expected !== null ? this.firstOpenKeys(expected) : null;
    this.clearPending = false;
    this.storedFrontiers = next;
    const unique = (keys: number[]): number[] => [...new Set(keys)].sort((a, b) => a - b);
    return {
      source: [...this.states.values()][0]?.source ?? '',
      expected,
      next,
      traffic,
      topDocs,
      clinicalTrend,
      replaceTraffic: unique(replace.traffic),
      replaceTop: unique(replace.top),
      replaceTrend: unique(replace.trend),
      clearFrom,
      dropBefore: this.dropBefore(next),
    };
  }

  /**
   * The first mart key that is not final at these frontiers: a traffic minute is final once the
   * frontier is past it, a snapshot once the frontier has reached it.
   */
  private firstOpenKeys(frontiers: Frontiers): Frontiers {
    return { traffic: frontiers.traffic, top: frontiers.top + this.steps.top, trend: frontiers.trend + this.steps.trend };
  }

  /** Newest event time of the group: the newest provisional snapshot's horizon. */
  private newestEventTs(): number {
    return this.tracker.groupMaxEventTs;
  }

  private partitionCommit(state: PartitionState, bound: number, shareOpen: boolean): PartitionCommit {
    const newBuckets: StoredBucket[] = [];
    for (const kind of KINDS) {
      const series = state.series(kind);
      const step = this.steps[kind];
      for (const start of series.open) {
        const bucket = series.buckets.get(start);
        if (bucket === undefined) {
          series.open.delete(start);
          continue;
        }
        const final = start + step <= bound;
        if (final) {
          newBuckets.push(this.toStored(kind, start, bucket, true));
          this.operator(kind).settle?.(bucket);
          series.markPersisted(start);
          series.changed.delete(start);
        } else if (shareOpen && series.changed.has(start)) {
          newBuckets.push(this.toStored(kind, start, bucket, false));
          series.changed.delete(start);
        }
      }
      if (!shareOpen) for (const start of series.changed) if (series.persisted.has(start)) series.changed.delete(start);
    }
    const earliestOpen = Math.min(...KINDS.map((k) => (Number.isFinite(bound) ? floorTo(bound, this.steps[k]) : bound)));
    const newPendingEvents = this.batch.newPending.get(state) ?? [];
    return {
      changed: state.nextOffset !== state.committedOffset || newBuckets.length > 0 || newPendingEvents.length > 0 || bound > state.committedBound,
      source: state.source,
      partition: state.partition,
      expectedOffset: state.committedOffset,
      nextOffset: state.nextOffset,
      maxEventTs: this.tracker.partitionMax(state.partition),
      watermark: bound,
      retainFrom: Number.isFinite(earliestOpen) ? earliestOpen - this.settings.marts.anomalySpanMs : earliestOpen,
      anomaly: this.anomalyIfChanged(state, state.nextOffset !== null),
      newPendingEvents,
      newBuckets,
    };
  }

  /**
   * The partition's anomaly state, or null when it equals what the previous batch committed.
   * `stored`: the commit writes the partition's row (it does once the partition has an offset).
   */
  private anomalyIfChanged(state: PartitionState, stored: boolean): Record<string, SessionAnomalySnapshot> | null {
    const snapshot = state.anomaly.snapshot();
    const text = JSON.stringify(snapshot);
    if (stored && text === state.committedAnomaly) return null;
    state.committedAnomaly = stored ? text : null;
    return snapshot;
  }

  private toStored(kind: BucketKind, start: number, bucket: unknown, final: boolean): StoredBucket {
    return { kind, start, final, data: this.operator(kind).encode(bucket) };
  }

  private thresholds(): { spanMs: number; warning: number; critical: number } {
    const m = this.settings.marts;
    return { spanMs: m.anomalySpanMs, warning: m.anomalyWarning, critical: m.anomalyCritical };
  }
}
