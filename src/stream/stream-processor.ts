// The hot path's core: per-event watermark, late detection, dedup, exact window state for the
// four hot marts, anomaly episodes, and — at each flush — the rows and checkpoint the sink must
// commit in one transaction. Pure: no I/O, the clock is passed in.
import { parseRawMessage } from '../marts/event-contract.ts';
import { CLINICAL_WINDOW_MS, TOP_DOCS_WINDOW_MS } from '../marts/types.ts';
import type { ClickEvent, ClinicalTrendRow, MartSettings, RawMessage, TopDocRow, TrafficMinuteRow } from '../marts/types.ts';
import { MINUTE_MS, floorTo, minuteOf, nextBoundaryAfter } from '../marts/window-math.ts';
import type { AnomalyAlert, SessionAnomalySnapshot } from './anomaly-detector.ts';
import type {
  BatchOutput,
  DeadLetter,
  LateEvent,
  PartitionCheckpoint,
  PartitionCommit,
  SnapshotRows,
  StoredBucket,
} from './checkpoint-types.ts';
import { addToBucket, bucketFromData, bucketToData } from './group-buckets.ts';
import type { GroupBucket } from './group-buckets.ts';
import { PartitionState, partitionKey } from './partition-state.ts';
import { SlidingWindow } from './sliding-window.ts';
import type { GroupValue } from './sliding-window.ts';
import { clinicalRows, compareTopDocs, topDocRows } from './snapshot-rows.ts';
import type { TrendSide } from './snapshot-rows.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

export interface StreamSettings {
  readonly marts: MartSettings;
  readonly watermarkDelayMs: number;
  readonly maxFutureSkewMs: number;
  readonly idlePartitionTimeoutMs: number;
}

export type Clock = () => number;

interface BatchAccumulator {
  deadLetters: DeadLetter[];
  lateEvents: LateEvent[];
  duplicates: number;
  applied: number;
  dirtyMinutes: Set<number>;
  dirtySessions: Map<PartitionState, Set<string>>;
  newPending: Map<PartitionState, ClickEvent[]>;
  snapshotsDirty: boolean;
}

function emptyBatch(): BatchAccumulator {
  return {
    deadLetters: [],
    lateEvents: [],
    duplicates: 0,
    applied: 0,
    dirtyMinutes: new Set(),
    dirtySessions: new Map(),
    newPending: new Map(),
    snapshotsDirty: false,
  };
}

export class StreamProcessor {
  private readonly settings: StreamSettings;
  private readonly clock: Clock;
  private readonly tracker: WatermarkTracker;
  private readonly states = new Map<string, PartitionState>();
  private readonly topStep: number;
  private readonly trendStep: number;
  private top: SlidingWindow | null = null;
  private trendCurrent: SlidingWindow | null = null;
  private trendPrevious: SlidingWindow | null = null;
  private topRankedCache: GroupValue[] | null = null;
  private batch = emptyBatch();
  private lastSweepAt = Number.NEGATIVE_INFINITY;
  private retainFrom = Number.NEGATIVE_INFINITY;
  private dropTopBefore: number | null = null;
  private dropTrendBefore: number | null = null;

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

  ownedPartitions(): { source: string; partition: number }[] {
    return [...this.states.values()].map((s) => ({ source: s.source, partition: s.partition }));
  }

  /** Takes ownership of a partition and restores its state from the checkpoint. */
  assign(checkpoint: PartitionCheckpoint): void {
    const state = new PartitionState(checkpoint.source, checkpoint.partition, checkpoint.nextOffset, this.thresholds());
    this.states.set(partitionKey(checkpoint.source, checkpoint.partition), state);
    this.tracker.track(checkpoint.partition, checkpoint.maxEventTs, this.clock());
    const watermark = this.tracker.watermark;

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
    const defaultFrozen = this.frozenDefault(watermark);
    for (const event of checkpoint.pendingEvents) {
      if (!state.persistedTop.has(floorTo(event.eventTs, this.topStep))) this.addToTop(state, event);
      if (!state.persistedTrend.has(floorTo(event.eventTs, this.trendStep))) this.addToTrend(state, event);
      if (minuteOf(event.eventTs) + MINUTE_MS > watermark) this.addToTraffic(state, event);
      if (event.eventTs >= watermark) state.seenIds.set(event.eventId, event.eventTs);
      state.anomalies.restoreEvent(event.sessionId, event.eventTs, event.eventId, defaultFrozen);
    }
    this.rebuildWindows(checkpoint.topFrontier, checkpoint.trendFrontier);
    this.batch.snapshotsDirty = true;
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
    this.rebuildWindows(this.top?.frontier ?? null, this.trendCurrent?.frontier ?? null);
  }

  process(messages: readonly RawMessage[]): void {
    for (const message of messages) this.processOne(message);
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
    const watermark = this.tracker.watermark;
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
    this.addToTop(state, event);
    this.addToTrend(state, event);
    state.anomalies.add(event.sessionId, event.eventTs, event.eventId, watermark);
    let sessions = this.batch.dirtySessions.get(state);
    if (sessions === undefined) this.batch.dirtySessions.set(state, (sessions = new Set()));
    sessions.add(event.sessionId);
    let pending = this.batch.newPending.get(state);
    if (pending === undefined) this.batch.newPending.set(state, (pending = []));
    pending.push(event);
    this.batch.dirtyMinutes.add(minuteOf(event.eventTs));
    this.batch.snapshotsDirty = true;
    this.batch.applied++;
    this.ensureFrontiersCover(event.eventTs);
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
   * Before the watermark is known, an out-of-order event may precede the frontier: move the
   * frontier back (the windows before it are empty, so a rebuild is cheap).
   */
  private ensureFrontiersCover(eventTs: number): void {
    const topStart = floorTo(eventTs, this.topStep);
    const trendStart = floorTo(eventTs, this.trendStep);
    if (this.top === null || topStart < this.top.frontier || this.trendCurrent === null || trendStart < this.trendCurrent.frontier) {
      this.rebuildWindows(
        this.top === null ? topStart : Math.min(this.top.frontier, topStart),
        this.trendCurrent === null ? trendStart : Math.min(this.trendCurrent.frontier, trendStart),
      );
    }
  }

  private rebuildWindows(topFrontier: number | null, trendFrontier: number | null): void {
    this.topRankedCache = null;
    if (topFrontier === null) {
      this.top = null;
    } else {
      this.top = new SlidingWindow({ windowMs: TOP_DOCS_WINDOW_MS, stepMs: this.topStep, trackSessions: true, frontier: topFrontier });
      this.top.reset(topFrontier, (start) => this.bucketsAt('top', start));
    }
    if (trendFrontier === null) {
      this.trendCurrent = null;
      this.trendPrevious = null;
    } else {
      this.trendCurrent = new SlidingWindow({ windowMs: CLINICAL_WINDOW_MS, stepMs: this.trendStep, trackSessions: true, frontier: trendFrontier });
      this.trendPrevious = new SlidingWindow({
        windowMs: CLINICAL_WINDOW_MS,
        offsetMs: CLINICAL_WINDOW_MS,
        stepMs: this.trendStep,
        trackSessions: false,
        frontier: trendFrontier,
      });
      this.trendCurrent.reset(trendFrontier, (start) => this.bucketsAt('trend', start));
      this.trendPrevious.reset(trendFrontier, (start) => this.bucketsAt('trend', start));
    }
  }

  private bucketsAt(kind: 'top' | 'trend', start: number): GroupBucket[] {
    const out: GroupBucket[] = [];
    for (const state of this.states.values()) {
      const bucket = (kind === 'top' ? state.topBuckets : state.trendBuckets).get(start);
      if (bucket !== undefined) out.push(bucket);
    }
    return out;
  }

  private firstBucketAtOrAfter(kind: 'top' | 'trend', from: number): number | null {
    let first: number | null = null;
    for (const state of this.states.values()) {
      for (const start of (kind === 'top' ? state.topBuckets : state.trendBuckets).keys()) {
        if (start >= from && (first === null || start < first)) first = start;
      }
    }
    return first;
  }

  /** Computes what this batch changed and returns it for one transactional commit. */
  flush(): BatchOutput {
    const now = this.clock();
    const watermark = this.tracker.recompute(now);
    const alerts: AnomalyAlert[] = [];
    const anomalyUpserts: BatchOutput['anomalyUpserts'][number][] = [];
    const anomalyDeletes: { sessionId: string; detectedTs: number }[] = [];

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

    const traffic = this.trafficRows(watermark);
    const topDocs = this.topSnapshots(watermark);
    const clinicalTrend = this.trendSnapshots(watermark);

    const partitions: PartitionCommit[] = [];
    for (const state of this.states.values()) partitions.push(this.partitionCommit(state, watermark));

    const output: BatchOutput = {
      traffic,
      topDocs,
      clinicalTrend,
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
    this.dropTopBefore = null;
    this.dropTrendBefore = null;
    return output;
  }

  private trafficRows(watermark: number): { row: TrafficMinuteRow; final: boolean }[] {
    const minutes = new Set(this.batch.dirtyMinutes);
    for (const state of this.states.values()) {
      for (const minute of state.trafficMinutes.keys()) if (minute + MINUTE_MS <= watermark) minutes.add(minute);
    }
    const rows: { row: TrafficMinuteRow; final: boolean }[] = [];
    for (const minute of [...minutes].sort((a, b) => a - b)) {
      const parts = [...this.states.values()].flatMap((s) => {
        const b = s.trafficMinutes.get(minute);
        return b === undefined ? [] : [b];
      });
      if (parts.length === 0) continue;
      const final = minute + MINUTE_MS <= watermark;
      let totalClicks = 0;
      let uniqueSessions: number;
      let uniqueDocs: number;
      for (const p of parts) totalClicks += p.clicks;
      if (parts.length === 1) {
        uniqueSessions = parts[0]!.sessions.size;
        uniqueDocs = parts[0]!.docs.size;
      } else {
        uniqueSessions = new Set(parts.flatMap((p) => [...p.sessions])).size;
        uniqueDocs = new Set(parts.flatMap((p) => [...p.docs])).size;
      }
      rows.push({ row: { eventMinute: minute, totalClicks, uniqueSessions, uniqueDocs }, final });
      if (final) for (const state of this.states.values()) state.trafficMinutes.delete(minute);
    }
    return rows;
  }

  private topSnapshots(watermark: number): SnapshotRows<TopDocRow>[] {
    const window = this.top;
    if (window === null) return [];
    const out: SnapshotRows<TopDocRow>[] = [];
    const lookup = (start: number): GroupBucket[] => this.bucketsAt('top', start);
    while (window.frontier + this.topStep <= watermark) {
      if (window.cells.size === 0) {
        const next = this.firstBucketAtOrAfter('top', window.frontier);
        if (next === null) {
          if (!Number.isFinite(watermark)) break;
          window.reset(floorTo(watermark, this.topStep), lookup);
          break;
        }
        if (next > window.frontier) {
          const target = Math.min(next, floorTo(Math.min(watermark, Number.MAX_SAFE_INTEGER), this.topStep));
          window.reset(target, lookup);
          continue;
        }
      }
      window.advance(lookup);
      this.topRankedCache = null;
      const values = window.frontierValues();
      if (values.length > 0) out.push({ snapshotTs: window.frontier, final: true, rows: topDocRows(window.frontier, values.sort(compareTopDocs), new Map()) });
    }
    this.dropTopBefore = window.frontier - TOP_DOCS_WINDOW_MS;
    this.dropBuckets('top', this.dropTopBefore);
    const maxTs = this.tracker.maxEventTs;
    if (this.batch.snapshotsDirty && Number.isFinite(watermark) && Number.isFinite(maxTs)) {
      const newest = nextBoundaryAfter(maxTs, this.topStep);
      const ranked = this.topRanked(window);
      window.overlaySnapshots(newest, lookup, (snapshotTs, changed) => {
        const rows = topDocRows(snapshotTs, ranked, changed);
        if (rows.length > 0) out.push({ snapshotTs, final: false, rows });
      });
    }
    return out;
  }

  private topRanked(window: SlidingWindow): GroupValue[] {
    if (this.topRankedCache === null) this.topRankedCache = window.frontierValues().sort(compareTopDocs);
    return this.topRankedCache;
  }

  private trendSnapshots(watermark: number): SnapshotRows<ClinicalTrendRow>[] {
    const current = this.trendCurrent;
    const previous = this.trendPrevious;
    if (current === null || previous === null) return [];
    const out: SnapshotRows<ClinicalTrendRow>[] = [];
    const lookup = (start: number): GroupBucket[] => this.bucketsAt('trend', start);
    const side = (w: SlidingWindow): TrendSide => ({ value: (a) => w.valueOf(a), areas: () => w.cells.keys() });
    while (current.frontier + this.trendStep <= watermark) {
      if (current.cells.size === 0 && previous.cells.size === 0) {
        // Both windows empty: jump to where the next bucket enters the current window.
        const next = this.firstBucketAtOrAfter('trend', current.frontier - CLINICAL_WINDOW_MS);
        const target = next === null ? null : Math.min(next, floorTo(Math.min(watermark, Number.MAX_SAFE_INTEGER), this.trendStep));
        if (target === null) {
          if (Number.isFinite(watermark)) {
            current.reset(floorTo(watermark, this.trendStep), lookup);
            previous.reset(floorTo(watermark, this.trendStep), lookup);
          }
          break;
        }
        if (target > current.frontier) {
          current.reset(target, lookup);
          previous.reset(target, lookup);
          continue;
        }
      }
      current.advance(lookup);
      previous.advance(lookup);
      const rows = clinicalRows(current.frontier, side(current), side(previous));
      if (rows.length > 0) out.push({ snapshotTs: current.frontier, final: true, rows });
    }
    this.dropTrendBefore = current.frontier - 2 * CLINICAL_WINDOW_MS;
    this.dropBuckets('trend', this.dropTrendBefore);
    const maxTs = this.tracker.maxEventTs;
    if (this.batch.snapshotsDirty && Number.isFinite(watermark) && Number.isFinite(maxTs)) {
      const newest = nextBoundaryAfter(maxTs, this.trendStep);
      const curChanges = new Map<number, ReadonlyMap<string, GroupValue>>();
      current.overlaySnapshots(newest, lookup, (ts, changed) => curChanges.set(ts, changed));
      previous.overlaySnapshots(newest, lookup, (ts, prevChanged) => {
        const curChanged = curChanges.get(ts) ?? new Map<string, GroupValue>();
        const overlay = (w: SlidingWindow, changed: ReadonlyMap<string, GroupValue>): TrendSide => ({
          value: (a) => (changed.has(a) ? changed.get(a) : w.valueOf(a)),
          areas: () => new Set([...w.cells.keys(), ...changed.keys()]),
        });
        const rows = clinicalRows(ts, overlay(current, curChanged), overlay(previous, prevChanged));
        if (rows.length > 0) out.push({ snapshotTs: ts, final: false, rows });
      });
    }
    return out;
  }

  private dropBuckets(kind: 'top' | 'trend', before: number): void {
    for (const state of this.states.values()) {
      const buckets = kind === 'top' ? state.topBuckets : state.trendBuckets;
      const persisted = kind === 'top' ? state.persistedTop : state.persistedTrend;
      for (const start of buckets.keys()) {
        if (start < before) {
          buckets.delete(start);
          persisted.delete(start);
        }
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
    return {
      source: state.source,
      partition: state.partition,
      expectedOffset: state.committedOffset,
      nextOffset: state.nextOffset,
      maxEventTs: this.tracker.partitionMax(state.partition),
      topFrontier: this.top?.frontier ?? null,
      trendFrontier: this.trendCurrent?.frontier ?? null,
      retainFrom: this.retainFrom,
      anomaly,
      newPendingEvents: this.batch.newPending.get(state) ?? [],
      newBuckets,
      dropTopBefore: this.dropTopBefore,
      dropTrendBefore: this.dropTrendBefore,
    };
  }

  private frozenDefault(watermark: number): number {
    return Number.isFinite(watermark) ? watermark : Number.NEGATIVE_INFINITY;
  }

  private thresholds(): { spanMs: number; warning: number; critical: number } {
    const m = this.settings.marts;
    return { spanMs: m.anomalySpanMs, warning: m.anomalyWarning, critical: m.anomalyCritical };
  }
}
