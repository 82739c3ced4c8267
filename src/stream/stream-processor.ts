// The hot path's core: per-event watermark, late detection, dedup, exact window state for the
// four hot marts, anomaly episodes, and — at each flush — the partial aggregates, anomaly rows
// and checkpoint the sink must commit in one transaction. Pure: no I/O, the clock is passed in.
import { parseRawMessage } from '../marts/event-contract.ts';
import { CLINICAL_WINDOW_MS, TOP_DOCS_WINDOW_MS } from '../marts/types.ts';
import type { ClickEvent, MartSettings, RawMessage } from '../marts/types.ts';
import { MINUTE_MS, floorTo, minuteOf, nextBoundaryAfter } from '../marts/window-math.ts';
import type { AnomalyAlert, SessionAnomalySnapshot } from './anomaly-detector.ts';
import type {
  BatchOutput,
  DeadLetter,
  LateEvent,
  PartitionCheckpoint,
  PartitionCommit,
  PartitionFinality,
  StoredBucket,
  TopDocPartial,
  TrafficPartial,
  TrendPartial,
} from './checkpoint-types.ts';
import { addToBucket, bucketFromData, bucketToData } from './group-buckets.ts';
import type { GroupBucket } from './group-buckets.ts';
import { PartitionState, partitionKey } from './partition-state.ts';
import type { TrendValue } from './partition-state.ts';
import { SlidingWindow } from './sliding-window.ts';
import type { GroupValue } from './sliding-window.ts';
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
  /** The log's end offset per partition: an owned partition with unread offsets never goes idle. */
  readonly logEnds?: ReadonlyMap<number, string>;
}

interface BatchAccumulator {
  deadLetters: DeadLetter[];
  lateEvents: LateEvent[];
  duplicates: number;
  applied: number;
  dirtySessions: Map<PartitionState, Set<string>>;
  newPending: Map<PartitionState, ClickEvent[]>;
}

interface FlushCollector {
  readonly trafficPartials: TrafficPartial[];
  readonly topPartials: TopDocPartial[];
  readonly trendPartials: TrendPartial[];
  readonly finality: PartitionFinality[];
  readonly dirtyMinutes: Set<number>;
  readonly dirtyTop: Set<number>;
  readonly dirtyTrend: Set<number>;
}

function emptyBatch(): BatchAccumulator {
  return { deadLetters: [], lateEvents: [], duplicates: 0, applied: 0, dirtySessions: new Map(), newPending: new Map() };
}

function sameGroupValue(a: GroupValue | undefined, b: GroupValue): boolean {
  return (
    a !== undefined &&
    a.count === b.count &&
    a.distinctSessions === b.distinctSessions &&
    a.title?.ts === b.title?.ts &&
    a.title?.eventId === b.title?.eventId
  );
}

export class StreamProcessor {
  private readonly settings: StreamSettings;
  private readonly clock: Clock;
  private readonly tracker: WatermarkTracker;
  private readonly states = new Map<string, PartitionState>();
  private readonly topStep: number;
  private readonly trendStep: number;
  private batch = emptyBatch();
  private lastSweepAt = Number.NEGATIVE_INFINITY;
  private retainFrom = Number.NEGATIVE_INFINITY;

  constructor(settings: StreamSettings, clock: Clock, options: { initialWatermark?: number } = {}) {
    this.settings = settings;
    this.clock = clock;
    this.topStep = settings.marts.topDocsEveryMs;
    this.trendStep = settings.marts.clinicalTrendEveryMs;
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

  /** Takes ownership of a partition and restores its state from the checkpoint. */
  assign(checkpoint: PartitionCheckpoint): void {
    const state = new PartitionState(checkpoint.source, checkpoint.partition, checkpoint.nextOffset, this.thresholds());
    this.states.set(partitionKey(checkpoint.source, checkpoint.partition), state);
    this.tracker.track(checkpoint.partition, checkpoint.maxEventTs, this.clock());
    state.watermarkFloor = checkpoint.watermark;
    const watermark = Math.max(this.tracker.watermark, state.watermarkFloor);

    for (const stored of checkpoint.buckets) {
      const bucket = bucketFromData(stored.data);
      if (stored.kind === 'top') {
        state.topBuckets.set(stored.start, bucket);
        state.persistedTop.add(stored.start);
      } else {
        state.trendBuckets.set(stored.start, bucket);
        state.persistedTrend.add(stored.start);
      }
    }
    for (const [sessionId, snapshot] of Object.entries(checkpoint.anomaly)) state.anomalies.restore(sessionId, snapshot);
    for (const event of checkpoint.pendingEvents) {
      if (!state.persistedTop.has(floorTo(event.eventTs, this.topStep))) this.addToTop(state, event);
      if (!state.persistedTrend.has(floorTo(event.eventTs, this.trendStep))) this.addToTrend(state, event);
      if (minuteOf(event.eventTs) + MINUTE_MS > watermark) this.addToTraffic(state, event);
      if (event.eventTs >= watermark) state.seenIds.set(event.eventId, event.eventTs);
      state.anomalies.restoreEvent(event.sessionId, event.eventTs, event.eventId, watermark);
    }
    this.rebuildWindows(state, checkpoint.topFrontier, checkpoint.trendFrontier);
    state.dirty = true;
  }

  /** Drops a partition that moved to another instance; its last commit holds its state. */
  revoke(source: string, partition: number): void {
    const key = partitionKey(source, partition);
    const state = this.states.get(key);
    if (state === undefined) return;
    this.states.delete(key);
    this.tracker.untrack(partition);
    this.batch.dirtySessions.delete(state);
    this.batch.newPending.delete(state);
  }

  process(messages: readonly RawMessage[], heldBack?: ReadonlyMap<number, number>): void {
    for (const message of messages) this.processOne(message);
    if (heldBack !== undefined) {
      const now = this.clock();
      // Read ahead but held back by the aligner: counts as the partition's progress already.
      for (const [partition, eventTs] of heldBack) if (this.trackedPartition(partition)) this.tracker.observe(partition, eventTs, now);
    }
  }

  private trackedPartition(partition: number): boolean {
    for (const state of this.states.values()) if (state.partition === partition) return true;
    return false;
  }

  /** End of a bounded source: the watermark becomes +∞ and every window final. */
  finish(): void {
    this.tracker.finish();
  }

  private processOne(message: RawMessage): void {
    const state = this.states.get(partitionKey(message.source, message.partition));
    if (state === undefined) throw new Error(`message for unassigned partition ${message.source}#${message.partition}`);
    state.nextOffset = String(Number(message.offset) + 1);
    const now = this.clock();
    const outcome = parseRawMessage(message.value, { nowMs: now, maxFutureSkewMs: this.settings.maxFutureSkewMs });
    if (!outcome.ok) {
      this.batch.deadLetters.push({ message, reason: outcome.reason, detail: outcome.detail });
      this.tracker.touch(message.partition, now);
      return;
    }
    const event = outcome.event;
    const watermark = Math.max(this.tracker.watermark, state.watermarkFloor);
    // Late is decided before dedup: a late duplicate is recorded as late (the cold path dedups).
    if (event.eventTs < watermark) {
      this.batch.lateEvents.push({ message, event, watermark });
      this.tracker.touch(message.partition, now);
      return;
    }
    if (state.seenIds.has(event.eventId)) {
      this.batch.duplicates++;
      this.tracker.touch(message.partition, now);
      return;
    }
    this.apply(state, event, watermark);
    this.tracker.observe(message.partition, event.eventTs, now);
  }

  private apply(state: PartitionState, event: ClickEvent, watermark: number): void {
    state.seenIds.set(event.eventId, event.eventTs);
    this.addToTraffic(state, event);
    state.dirtyMinutes.add(minuteOf(event.eventTs));
    this.addToTop(state, event);
    this.addToTrend(state, event);
    state.anomalies.add(event.sessionId, event.eventTs, event.eventId, watermark);
    let sessions = this.batch.dirtySessions.get(state);
    if (sessions === undefined) this.batch.dirtySessions.set(state, (sessions = new Set()));
    sessions.add(event.sessionId);
    let pending = this.batch.newPending.get(state);
    if (pending === undefined) this.batch.newPending.set(state, (pending = []));
    pending.push(event);
    state.dirty = true;
    this.batch.applied++;
    this.ensureFrontiersCover(state, event.eventTs);
  }

  private addToTraffic(state: PartitionState, event: ClickEvent): void {
    const minute = minuteOf(event.eventTs);
    let bucket = state.trafficMinutes.get(minute);
    if (bucket === undefined) state.trafficMinutes.set(minute, (bucket = { clicks: 0, sessions: new Set(), docs: new Set() }));
    bucket.clicks++;
    bucket.sessions.add(event.sessionId);
    bucket.docs.add(event.documentId);
  }

  private addToTop(state: PartitionState, event: ClickEvent): void {
    const start = floorTo(event.eventTs, this.topStep);
    let bucket = state.topBuckets.get(start);
    if (bucket === undefined) state.topBuckets.set(start, (bucket = new Map()));
    const title = event.title === null ? null : { ts: event.eventTs, eventId: event.eventId, title: event.title };
    addToBucket(bucket, event.documentId, event.sessionId, title);
  }

  private addToTrend(state: PartitionState, event: ClickEvent): void {
    const start = floorTo(event.eventTs, this.trendStep);
    let bucket = state.trendBuckets.get(start);
    if (bucket === undefined) state.trendBuckets.set(start, (bucket = new Map()));
    addToBucket(bucket, event.clinicalArea, event.sessionId, null);
  }

  /**
   * Before the watermark has passed them, an out-of-order event may precede a partition's
   * frontier: move the frontier back (windows before it are empty, so the rebuild is cheap).
   */
  private ensureFrontiersCover(state: PartitionState, eventTs: number): void {
    const topStart = floorTo(eventTs, this.topStep);
    const trendStart = floorTo(eventTs, this.trendStep);
    if (state.top === null || topStart < state.top.frontier || state.trendCurrent === null || trendStart < state.trendCurrent.frontier) {
      this.rebuildWindows(
        state,
        state.top === null ? topStart : Math.min(state.top.frontier, topStart),
        state.trendCurrent === null ? trendStart : Math.min(state.trendCurrent.frontier, trendStart),
      );
    }
  }

  private rebuildWindows(state: PartitionState, topFrontier: number | null, trendFrontier: number | null): void {
    const topLookup = this.lookup(state.topBuckets);
    const trendLookup = this.lookup(state.trendBuckets);
    if (topFrontier === null) {
      state.top = null;
    } else {
      state.top = new SlidingWindow({ windowMs: TOP_DOCS_WINDOW_MS, stepMs: this.topStep, trackSessions: true, frontier: topFrontier });
      state.top.reset(topFrontier, topLookup);
    }
    if (trendFrontier === null) {
      state.trendCurrent = null;
      state.trendPrevious = null;
    } else {
      state.trendCurrent = new SlidingWindow({ windowMs: CLINICAL_WINDOW_MS, stepMs: this.trendStep, trackSessions: true, frontier: trendFrontier });
      state.trendPrevious = new SlidingWindow({
        windowMs: CLINICAL_WINDOW_MS,
        offsetMs: CLINICAL_WINDOW_MS,
        stepMs: this.trendStep,
        trackSessions: false,
        frontier: trendFrontier,
      });
      state.trendCurrent.reset(trendFrontier, trendLookup);
      state.trendPrevious.reset(trendFrontier, trendLookup);
    }
  }

  private lookup(buckets: ReadonlyMap<number, GroupBucket>): (start: number) => GroupBucket[] {
    return (start) => {
      const bucket = buckets.get(start);
      return bucket === undefined ? [] : [bucket];
    };
  }

  /** Computes what this batch changed and returns it for one transactional commit. */
  flush(options: FlushOptions = {}): BatchOutput {
    const now = this.clock();
    if (options.groupClocks !== undefined) this.tracker.setExternal(options.groupClocks.filter((c) => !this.trackedPartition(c.partition)));
    if (options.logEnds !== undefined) {
      for (const state of this.states.values()) {
        const end = options.logEnds.get(state.partition);
        this.tracker.setBacklog(state.partition, end !== undefined && BigInt(state.nextOffset ?? '0') < BigInt(end));
      }
    }
    const watermark = this.tracker.recompute(now);
    const alerts: AnomalyAlert[] = [];
    const anomalyUpserts: BatchOutput['anomalyUpserts'][number][] = [];
    const anomalyDeletes: { sessionId: string; detectedTs: number }[] = [];

    // Once per watermark minute: fold every session the watermark passed, forget old ids.
    const sweep = Number.isFinite(watermark) ? floorTo(watermark, MINUTE_MS) > this.lastSweepAt : this.lastSweepAt !== watermark;
    if (sweep) {
      for (const state of this.states.values()) {
        let sessions = this.batch.dirtySessions.get(state);
        if (sessions === undefined) this.batch.dirtySessions.set(state, (sessions = new Set()));
        for (const sessionId of state.anomalies.sessionsBehind(watermark)) sessions.add(sessionId);
        for (const [id, ts] of state.seenIds) if (ts < watermark) state.seenIds.delete(id);
      }
    }
    for (const [state, sessions] of this.batch.dirtySessions) {
      for (const sessionId of sessions) {
        const changes = state.anomalies.evaluate(sessionId, watermark, alerts);
        anomalyUpserts.push(...changes.upserts);
        for (const detectedTs of changes.deletes) anomalyDeletes.push({ sessionId, detectedTs });
      }
    }
    if (sweep) {
      for (const state of this.states.values()) state.anomalies.collect(watermark);
      this.lastSweepAt = Number.isFinite(watermark) ? floorTo(watermark, MINUTE_MS) : watermark;
      if (Number.isFinite(watermark)) {
        this.retainFrom = Math.min(floorTo(watermark, this.topStep), floorTo(watermark, this.trendStep)) - this.settings.marts.anomalySpanMs;
      } else if (watermark === Number.POSITIVE_INFINITY) {
        this.retainFrom = Number.POSITIVE_INFINITY;
      }
    }

    const newestTs = this.tracker.groupMaxEventTs;
    const collector: FlushCollector = {
      trafficPartials: [],
      topPartials: [],
      trendPartials: [],
      finality: [],
      dirtyMinutes: new Set(),
      dirtyTop: new Set(),
      dirtyTrend: new Set(),
    };
    const partitions: PartitionCommit[] = [];
    for (const state of this.states.values()) {
      this.flushTraffic(state, watermark, collector);
      const topUpTo = this.flushTop(state, watermark, newestTs, collector);
      const trendUpTo = this.flushTrend(state, watermark, newestTs, collector);
      if (topUpTo !== null || trendUpTo !== null) collector.finality.push({ source: state.source, partition: state.partition, topUpTo, trendUpTo });
      state.dirty = false;
      partitions.push(this.partitionCommit(state, watermark));
    }

    const byTime = (a: number, b: number): number => a - b;
    const output: BatchOutput = {
      trafficPartials: collector.trafficPartials,
      topPartials: collector.topPartials,
      trendPartials: collector.trendPartials,
      finality: collector.finality,
      dirtyMinutes: [...collector.dirtyMinutes].sort(byTime),
      dirtyTopSnapshots: [...collector.dirtyTop].sort(byTime),
      dirtyTrendSnapshots: [...collector.dirtyTrend].sort(byTime),
      anomalyUpserts,
      anomalyDeletes,
      deadLetters: this.batch.deadLetters,
      lateEvents: this.batch.lateEvents,
      alerts,
      duplicates: this.batch.duplicates,
      applied: this.batch.applied,
      watermark,
      partitions,
    };
    for (const state of this.states.values()) state.committedOffset = state.nextOffset;
    this.batch = emptyBatch();
    return output;
  }

  private flushTraffic(state: PartitionState, watermark: number, out: FlushCollector): void {
    const minutes = new Set(state.dirtyMinutes);
    for (const minute of state.trafficMinutes.keys()) if (minute + MINUTE_MS <= watermark) minutes.add(minute);
    for (const minute of minutes) {
      const bucket = state.trafficMinutes.get(minute);
      if (bucket === undefined) continue;
      const final = minute + MINUTE_MS <= watermark;
      out.trafficPartials.push({
        source: state.source,
        partition: state.partition,
        eventMinute: minute,
        clicks: bucket.clicks,
        sessions: bucket.sessions.size,
        documentIds: [...bucket.docs],
        final,
      });
      out.dirtyMinutes.add(minute);
      if (final) state.trafficMinutes.delete(minute);
    }
    state.dirtyMinutes.clear();
  }

  /**
   * Moves a window's frontier up to the watermark, skipping empty stretches, calling onFinal for
   * every snapshot that became final. Returns the new frontier when it moved.
   */
  private advanceFinals(
    windows: readonly SlidingWindow[],
    buckets: ReadonlyMap<number, GroupBucket>,
    watermark: number,
    earliestBucketNeeded: (frontier: number) => number,
    onFinal: (snapshotTs: number) => void,
  ): number | null {
    const main = windows[0]!;
    const step = main.stepMs;
    const lookup = this.lookup(buckets);
    const before = main.frontier;
    const empty = (): boolean => windows.every((w) => w.cells.size === 0);
    while (main.frontier + step <= watermark) {
      if (empty()) {
        let next: number | null = null;
        const from = earliestBucketNeeded(main.frontier);
        for (const start of buckets.keys()) if (start >= from && (next === null || start < next)) next = start;
        const ceiling = Number.isFinite(watermark) ? floorTo(watermark, step) : Number.POSITIVE_INFINITY;
        const target = next === null ? ceiling : Math.min(next, ceiling);
        if (!Number.isFinite(target)) break;
        if (target > main.frontier) {
          for (const w of windows) w.reset(target, lookup);
          continue;
        }
      }
      for (const w of windows) w.advance(lookup);
      onFinal(main.frontier);
    }
    return main.frontier > before ? main.frontier : null;
  }

  private flushTop(state: PartitionState, watermark: number, newestTs: number, out: FlushCollector): number | null {
    const window = state.top;
    if (window === null) return null;
    const emit = (snapshotTs: number, full: ReadonlyMap<string, GroupValue>): void => {
      const written = state.writtenTop.get(snapshotTs);
      let changed = false;
      for (const value of full.values()) {
        if (sameGroupValue(written?.get(value.group), value)) continue;
        changed = true;
        out.topPartials.push({
          source: state.source,
          partition: state.partition,
          snapshotTs,
          documentId: value.group,
          clicks: value.count,
          sessions: value.distinctSessions,
          title: value.title,
        });
      }
      if (changed) out.dirtyTop.add(snapshotTs);
    };
    const finalUpTo = this.advanceFinals([window], state.topBuckets, watermark, (f) => f, (snapshotTs) => {
      const values = window.frontierValues();
      if (values.length === 0) return;
      emit(snapshotTs, new Map(values.map((v) => [v.group, v])));
      state.writtenTop.delete(snapshotTs);
      out.dirtyTop.add(snapshotTs);
    });
    this.dropBuckets(state.topBuckets, state.persistedTop, window.frontier - TOP_DOCS_WINDOW_MS);
    for (const ts of state.writtenTop.keys()) if (ts <= window.frontier) state.writtenTop.delete(ts);

    if (Number.isFinite(watermark) && Number.isFinite(newestTs)) {
      const newest = nextBoundaryAfter(newestTs, this.topStep);
      if (state.dirty || newest !== state.lastNewest || finalUpTo !== null) {
        const base = new Map(window.frontierValues().map((v) => [v.group, v]));
        window.overlaySnapshots(newest, this.lookup(state.topBuckets), (snapshotTs, changed) => {
          const full = new Map(base);
          for (const [group, value] of changed) {
            if (value.count > 0) full.set(group, value);
            else full.delete(group);
          }
          if (full.size === 0) return;
          emit(snapshotTs, full);
          state.writtenTop.set(snapshotTs, full);
        });
        state.lastNewest = newest;
      }
    }
    return finalUpTo;
  }

  private flushTrend(state: PartitionState, watermark: number, newestTs: number, out: FlushCollector): number | null {
    const current = state.trendCurrent;
    const previous = state.trendPrevious;
    if (current === null || previous === null) return null;
    const emit = (snapshotTs: number, full: ReadonlyMap<string, TrendValue>): void => {
      const written = state.writtenTrend.get(snapshotTs);
      let changed = false;
      for (const [area, value] of full) {
        const before = written?.get(area);
        if (before !== undefined && before.clicks === value.clicks && before.sessions === value.sessions && before.previous === value.previous) continue;
        changed = true;
        out.trendPartials.push({
          source: state.source,
          partition: state.partition,
          snapshotTs,
          clinicalArea: area,
          clicks: value.clicks,
          sessions: value.sessions,
          previousClicks: value.previous,
        });
      }
      if (changed) out.dirtyTrend.add(snapshotTs);
    };
    const values = (cur: (a: string) => GroupValue | undefined, prev: (a: string) => GroupValue | undefined, areas: Iterable<string>): Map<string, TrendValue> => {
      const full = new Map<string, TrendValue>();
      for (const area of areas) {
        const c = cur(area);
        const p = prev(area);
        const clicks = c?.count ?? 0;
        const prevClicks = p?.count ?? 0;
        if (clicks === 0 && prevClicks === 0) continue;
        full.set(area, { clicks, sessions: clicks === 0 ? 0 : (c?.distinctSessions ?? 0), previous: prevClicks });
      }
      return full;
    };
    const finalUpTo = this.advanceFinals(
      [current, previous],
      state.trendBuckets,
      watermark,
      (f) => f - CLINICAL_WINDOW_MS,
      (snapshotTs) => {
        const full = values((a) => current.valueOf(a), (a) => previous.valueOf(a), new Set([...current.cells.keys(), ...previous.cells.keys()]));
        if (full.size === 0) return;
        emit(snapshotTs, full);
        state.writtenTrend.delete(snapshotTs);
        out.dirtyTrend.add(snapshotTs);
      },
    );
    this.dropBuckets(state.trendBuckets, state.persistedTrend, current.frontier - 2 * CLINICAL_WINDOW_MS);
    for (const ts of state.writtenTrend.keys()) if (ts <= current.frontier) state.writtenTrend.delete(ts);

    if (Number.isFinite(watermark) && Number.isFinite(newestTs)) {
      const newest = nextBoundaryAfter(newestTs, this.trendStep);
      // lastNewest tracks the top-docs horizon; the trend horizon follows from the same max.
      if (state.dirty || finalUpTo !== null || !state.writtenTrend.has(newest)) {
        const lookup = this.lookup(state.trendBuckets);
        const currentChanges = new Map<number, ReadonlyMap<string, GroupValue>>();
        current.overlaySnapshots(newest, lookup, (ts, changed) => currentChanges.set(ts, changed));
        previous.overlaySnapshots(newest, lookup, (snapshotTs, prevChanged) => {
          const curChanged = currentChanges.get(snapshotTs) ?? new Map<string, GroupValue>();
          const areas = new Set([...current.cells.keys(), ...previous.cells.keys(), ...curChanged.keys(), ...prevChanged.keys()]);
          const full = values(
            (a) => (curChanged.has(a) ? curChanged.get(a) : current.valueOf(a)),
            (a) => (prevChanged.has(a) ? prevChanged.get(a) : previous.valueOf(a)),
            areas,
          );
          if (full.size === 0) return;
          emit(snapshotTs, full);
          state.writtenTrend.set(snapshotTs, full);
        });
      }
    }
    return finalUpTo;
  }

  private dropBuckets(buckets: Map<number, GroupBucket>, persisted: Set<number>, before: number): void {
    for (const start of buckets.keys()) {
      if (start < before) {
        buckets.delete(start);
        persisted.delete(start);
      }
    }
  }

  private partitionCommit(state: PartitionState, watermark: number): PartitionCommit {
    const newBuckets: StoredBucket[] = [];
    for (const [start, bucket] of state.topBuckets) {
      if (start + this.topStep <= watermark && !state.persistedTop.has(start)) {
        newBuckets.push({ kind: 'top', start, data: bucketToData(bucket) });
        state.persistedTop.add(start);
      }
    }
    for (const [start, bucket] of state.trendBuckets) {
      if (start + this.trendStep <= watermark && !state.persistedTrend.has(start)) {
        newBuckets.push({ kind: 'trend', start, data: bucketToData(bucket) });
        state.persistedTrend.add(start);
      }
    }
    const anomaly: Record<string, SessionAnomalySnapshot> = {};
    for (const sessionId of state.anomalies.sessionIds()) {
      const snapshot = state.anomalies.snapshot(sessionId);
      if (snapshot !== null) anomaly[sessionId] = snapshot;
    }
    const topFrontier = state.top?.frontier ?? null;
    const trendFrontier = state.trendCurrent?.frontier ?? null;
    return {
      source: state.source,
      partition: state.partition,
      expectedOffset: state.committedOffset,
      nextOffset: state.nextOffset,
      maxEventTs: this.tracker.partitionMax(state.partition),
      watermark: Math.max(watermark, state.watermarkFloor),
      topFrontier,
      trendFrontier,
      retainFrom: this.retainFrom,
      anomaly,
      newPendingEvents: this.batch.newPending.get(state) ?? [],
      newBuckets,
      dropTopBefore: topFrontier === null ? null : topFrontier - TOP_DOCS_WINDOW_MS,
      dropTrendBefore: trendFrontier === null ? null : trendFrontier - 2 * CLINICAL_WINDOW_MS,
    };
  }

  private thresholds(): { spanMs: number; warning: number; critical: number } {
    const m = this.settings.marts;
    return { spanMs: m.anomalySpanMs, warning: m.anomalyWarning, critical: m.anomalyCritical };
  }
}
