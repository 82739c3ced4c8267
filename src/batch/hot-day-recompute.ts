// Reconcile's recompute of the hot marts for one local day D (SPEC §6.3): every hot row whose
// minute / snapshot_ts / detected_ts falls in [startOfLocalDay(D), endOfLocalDay(D)), computed
// from the archive. The events are replayed through the stream core itself (StreamProcessor and
// the partial combination the sink uses), so the hot marts are defined once: a bug in that code
// cannot be "fixed" by reconcile silently disagreeing with it, and a fix there fixes both.
import { addDays, endOfLocalDay, localDate, startOfLocalDay } from '../marts/time-zone.ts';
import { CLINICAL_WINDOW_MS, TOP_DOCS_WINDOW_MS } from '../marts/types.ts';
import type { AnomalyRow, ClickEvent, ClinicalTrendRow, HotMartRows, MartSettings, RawMessage, TopDocRow } from '../marts/types.ts';
import { compareCodeUnits } from '../marts/window-math.ts';
import type { BatchOutput, TopDocPartial, TrafficPartial, TrendPartial } from '../stream/checkpoint-types.ts';
import { combineTopDocs, combineTraffic, combineTrend } from '../stream/combine-partials.ts';
import { StreamProcessor } from '../stream/stream-processor.ts';

/** What a recompute of day D reads: events with eventTs ≥ from, from the archive dates listed. */
export interface HotDayInput {
  /** Rows of D are those keyed in [dayStart, dayEnd). */
  readonly dayStart: number;
  readonly dayEnd: number;
  /** The earliest event_ts any row of D depends on. */
  readonly from: number;
  /**
   * Archive dates that must be read in full: localDate(from) … D. Usually D−2 … D, but D−3 … D
   * when a 23-hour day lies in between, since the clinical trend's previous window reaches back
   * 48 h of real time, not two calendar days.
   */
  readonly requiredDates: readonly string[];
  /**
   * D+1: read it when it exists. An anomaly episode detected in D may last past midnight, and its
   * window_end and click_count come from the events after D. Without D+1 such rows are what the
   * stream had at the end of D (provisional), not the final ones.
   */
  readonly continuationDate: string;
}

export function hotDayInput(day: string, settings: MartSettings): HotDayInput {
  const dayStart = startOfLocalDay(day, settings.timeZone);
  const dayEnd = endOfLocalDay(day, settings.timeZone);
  // Top docs look back 1 h, the clinical trend 48 h (current + previous window), an anomaly's
  // trailing count one span; the previous event's count (whether an episode *starts*) one more.
  const lookBack = Math.max(TOP_DOCS_WINDOW_MS, 2 * CLINICAL_WINDOW_MS, 2 * settings.anomalySpanMs);
  const from = dayStart - lookBack;
  const requiredDates: string[] = [];
  for (let date = localDate(from, settings.timeZone); date <= day; date = addDays(date, 1)) requiredDates.push(date);
  return { dayStart, dayEnd, from, requiredDates, continuationDate: addDays(day, 1) };
}

// Events are replayed in (event_ts, event_id) order with no watermark delay: nothing is late,
// windows become final as soon as the replay passes them, and the processor prunes its state as
// it goes. The batch size only bounds how much work sits between two flushes.
const REPLAY_BATCH = 20_000;
const REPLAY_SOURCE = 'reconcile';
// The processor's clock only judges future timestamps and partition idleness; neither applies to
// a replay of the archive, so it is pinned to the largest valid instant.
const REPLAY_CLOCK = (): number => 8.64e15;

/**
 * Collects the input of one day's hot recompute, batch by batch in archive order, and computes
 * the rows. Duplicated event_ids keep their first occurrence (archive order = offset order, as in
 * the cold path). Events before `from` are dropped on arrival.
 *
 * Memory: the replay must be in event-time order and the archive is in offset order, so the
 * events of the input range (three to four days) are held and sorted once. The stream state
 * itself stays bounded by window keys. A later optimisation: a k-way merge of per-hour sorted
 * runs spilled to the lake, which would bound memory by an hour of events.
 */
export class HotDayRecompute {
  readonly day: string;
  readonly settings: MartSettings;
  readonly input: HotDayInput;
  private readonly seenIds = new Set<string>();
  private readonly events: ClickEvent[] = [];

  constructor(day: string, settings: MartSettings) {
    this.day = day;
    this.settings = settings;
    this.input = hotDayInput(day, settings);
  }

  add(events: readonly ClickEvent[]): void {
    for (const event of events) {
      if (event.eventTs < this.input.from) continue;
      const seen = this.seenIds.size;
      this.seenIds.add(event.eventId);
      if (this.seenIds.size !== seen) this.events.push(event);
    }
  }

  rows(): HotMartRows {
    const sorted = [...this.events].sort(
      (a, b) => a.eventTs - b.eventTs || compareCodeUnits(a.eventId, b.eventId),
    );
    const processor = new StreamProcessor(
      { marts: this.settings, watermarkDelayMs: 0, maxFutureSkewMs: 0, idlePartitionTimeoutMs: Number.MAX_SAFE_INTEGER },
      REPLAY_CLOCK,
    );
    processor.assign({
      source: REPLAY_SOURCE,
      partition: 0,
      nextOffset: null,
      maxEventTs: Number.NEGATIVE_INFINITY,
      watermark: Number.NEGATIVE_INFINITY,
      topFrontier: null,
      trendFrontier: null,
      anomaly: {},
      buckets: [],
      pendingEvents: [],
    });
    const store = new DayPartials(this.input.dayStart, this.input.dayEnd);
    for (let i = 0; i < sorted.length; i += REPLAY_BATCH) {
      const messages: RawMessage[] = [];
      const end = Math.min(i + REPLAY_BATCH, sorted.length);
      for (let j = i; j < end; j++) messages.push(toMessage(sorted[j] as ClickEvent, j));
      processor.process(messages);
      store.apply(processor.flush());
    }
    processor.finish();
    store.apply(processor.flush());
    return store.rows();
  }
}

/**
 * Hot rows of `day` (local time zone of settings) from events covering hotDayInput(day).from …
 * the end of D (and D+1 when archived, for anomaly episodes crossing midnight). `events` is an
 * array or any iterable of batches (row groups).
 */
export function recomputeHotDay(
  events: readonly ClickEvent[] | Iterable<readonly ClickEvent[]>,
  day: string,
  settings: MartSettings,
): HotMartRows {
  const recompute = new HotDayRecompute(day, settings);
  if (isEventArray(events)) recompute.add(events);
  else for (const batch of events) recompute.add(batch);
  return recompute.rows();
}

function isEventArray(value: readonly ClickEvent[] | Iterable<readonly ClickEvent[]>): value is readonly ClickEvent[] {
  return Array.isArray(value) && (value.length === 0 || !Array.isArray(value[0]));
}

/** The archive's record shape, which the processor's parser accepts as a decoded record. */
function toMessage(event: ClickEvent, index: number): RawMessage {
  return {
    source: REPLAY_SOURCE,
    partition: 0,
    offset: String(index),
    value: {
      event_id: event.eventId,
      event_ts: event.eventTs,
      session_id: event.sessionId,
      document_id: event.documentId,
      title: event.title,
      clinical_area: event.clinicalArea,
    },
    receivedAt: 0,
  };
}

/**
 * The sink's semantics in memory (partials upserted by key, rows = their combination), keeping
 * only keys inside the day so that the rows of D−3 … D−1 are never held.
 */
class DayPartials {
  private readonly start: number;
  private readonly end: number;
  private readonly traffic = new Map<number, TrafficPartial>();
  private readonly topDocs = new Map<number, Map<string, TopDocPartial>>();
  private readonly clinical = new Map<number, Map<string, TrendPartial>>();
  private readonly anomalies = new Map<string, AnomalyRow>();
  // Snapshots the replay has made final, already combined: a day has 1440 top-docs snapshots of
  // up to every document of their hour, and holding all their partials until the end cost
  // ~0.8 GB for 100k events. Final snapshots never receive partials again.
  private readonly finalTop = new Map<number, readonly TopDocRow[]>();
  private readonly finalTrend = new Map<number, readonly ClinicalTrendRow[]>();

  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }

  private inDay(ts: number): boolean {
    return ts >= this.start && ts < this.end;
  }

  apply(batch: BatchOutput): void {
    // The replay feeds valid events in time order: a dead letter or a late event here would mean
    // the archive and the event contract disagree, and a silently smaller day is worse than a
    // failed job.
    const rejected = batch.deadLetters[0] ?? batch.lateEvents[0];
    if (rejected !== undefined) {
      const reason = 'reason' in rejected ? `dead-lettered (${rejected.reason}: ${rejected.detail})` : 'late';
      throw new Error(`hot recompute: archived event at replay offset ${rejected.message.offset} was ${reason}`);
    }
    // One replay partition: each key has exactly one partial, the latest replaces the earlier.
    for (const p of batch.trafficPartials) if (this.inDay(p.eventMinute)) this.traffic.set(p.eventMinute, p);
    for (const p of batch.topPartials) {
      if (!this.inDay(p.snapshotTs)) continue;
      if (this.finalTop.has(p.snapshotTs)) throw new Error(`hot recompute: a partial for final top-docs snapshot ${p.snapshotTs}`);
      upsert(this.topDocs, p.snapshotTs, p.documentId, p);
    }
    for (const p of batch.trendPartials) {
      if (!this.inDay(p.snapshotTs)) continue;
      if (this.finalTrend.has(p.snapshotTs)) throw new Error(`hot recompute: a partial for final trend snapshot ${p.snapshotTs}`);
      upsert(this.clinical, p.snapshotTs, p.clinicalArea, p);
    }
    for (const f of batch.finality) {
      if (f.topUpTo !== null) finalize(this.topDocs, this.finalTop, f.topUpTo, combineTopDocs);
      if (f.trendUpTo !== null) finalize(this.clinical, this.finalTrend, f.trendUpTo, combineTrend);
    }
    for (const d of batch.anomalyDeletes) this.anomalies.delete(anomalyKey(d.detectedTs, d.sessionId));
    for (const { row } of batch.anomalyUpserts) if (this.inDay(row.detectedTs)) this.anomalies.set(anomalyKey(row.detectedTs, row.sessionId), row);
  }

  rows(): HotMartRows {
    const byTs = (a: number, b: number): number => a - b;
    return {
      traffic: [...this.traffic.keys()].sort(byTs).map((minute) => combineTraffic(minute, [this.traffic.get(minute) as TrafficPartial])),
      topDocs: [...this.finalTop.keys(), ...this.topDocs.keys()]
        .sort(byTs)
        .flatMap((ts) => this.finalTop.get(ts) ?? combineTopDocs(ts, [...(this.topDocs.get(ts) as Map<string, TopDocPartial>).values()])),
      clinicalTrend: [...this.finalTrend.keys(), ...this.clinical.keys()]
        .sort(byTs)
        .flatMap((ts) => this.finalTrend.get(ts) ?? combineTrend(ts, [...(this.clinical.get(ts) as Map<string, TrendPartial>).values()])),
      anomalies: [...this.anomalies.values()].sort((a, b) => a.detectedTs - b.detectedTs || compareCodeUnits(a.sessionId, b.sessionId)),
    };
  }
}

function upsert<P>(table: Map<number, Map<string, P>>, ts: number, key: string, partial: P): void {
  let rows = table.get(ts);
  if (rows === undefined) table.set(ts, (rows = new Map()));
  rows.set(key, partial);
}

/** Moves every snapshot ≤ upTo from its partials to its combined rows. */
function finalize<P, R>(
  partials: Map<number, Map<string, P>>,
  final: Map<number, readonly R[]>,
  upTo: number,
  combine: (ts: number, parts: P[]) => R[],
): void {
  for (const [ts, parts] of partials) {
    if (ts > upTo) continue;
    final.set(ts, combine(ts, [...parts.values()]));
    partials.delete(ts);
  }
}

function anomalyKey(detectedTs: number, sessionId: string): string {
  return `${detectedTs}|${sessionId}`;
}
