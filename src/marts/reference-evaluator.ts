// The reference evaluator: every mart of SPEC §4 and §5 computed by brute force, straight from
// the definitions, over a finished set of events. It is the expected answer of every product
// test — the incremental stream processor and the batch path must equal it row for row — so it
// is written to be obviously correct rather than fast: each snapshot re-reads its whole window,
// and nothing is maintained incrementally. It deliberately shares no helper with the stream or
// batch code, so that a bug there cannot hide by being repeated here.
import type {
  AnomalyRow,
  ClickEvent,
  ClinicalAreaRow,
  ClinicalTrendRow,
  ColdMartRows,
  DailyTrafficRow,
  HotMartRows,
  MartSettings,
  PopularDocumentRow,
  SessionAnalysisRow,
  TopDocRow,
  TrafficMinuteRow,
} from './types.ts';
import { CLINICAL_WINDOW_MS, TOP_DOCS_LIMIT, TOP_DOCS_WINDOW_MS } from './types.ts';
import { localDate, localHour } from './time-zone.ts';

const MINUTE_MS = 60_000;

export interface HotEvaluationOptions {
  /**
   * The newest event_ts a running stream has seen. Given, only the snapshots a stream can have
   * written by then are kept: T up to the first cadence boundary strictly after it (the newest,
   * still provisional snapshot). Omitted, the source is bounded and its final watermark is +∞, so
   * every snapshot whose window holds an event exists.
   */
  readonly newestEventTs?: number;
}

// ---- orderings ----

/** JS string order (UTF-16 code units), the same as PostgreSQL's COLLATE "C" for our ids. */
export function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/**
 * Numeric order of canonical decimal document ids (no sign, no leading zeros), as BIGINT orders
 * them: a shorter string is a smaller number, equal lengths compare digit by digit. Numbers
 * beyond 2^53 would lose precision as doubles, so they are never converted.
 */
export function compareDocumentIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return compareCodeUnits(a, b);
}

/** True when a comes after b in (event_ts, event_id) order, the order that picks "latest" titles. */
function isLaterEvent(a: ClickEvent, b: ClickEvent): boolean {
  if (a.eventTs !== b.eventTs) return a.eventTs > b.eventTs;
  return a.eventId > b.eventId;
}

function byTimeThenId(a: ClickEvent, b: ClickEvent): number {
  if (a.eventTs !== b.eventTs) return a.eventTs - b.eventTs;
  return compareCodeUnits(a.eventId, b.eventId);
}

// ---- small arithmetic ----

/** Largest multiple of step that is ≤ ts (epoch-aligned, also for negative ts). */
function floorToMultiple(ts: number, step: number): number {
  return Math.floor(ts / step) * step;
}

/**
 * trend_pct = 100 × (cur − prev) / prev as NUMERIC(10,2) text, rounded half away from zero,
 * computed on integers (BigInt) so that no binary fraction can tip a half the wrong way:
 * (20201, 20000) is exactly 1.005 % and must print '1.01'. Null when prev is 0.
 */
export function formatTrendPct(cur: number, prev: number): string | null {
  if (!Number.isInteger(cur) || !Number.isInteger(prev) || cur < 0 || prev < 0) {
    throw new RangeError(`trend of non-count values: ${cur}, ${prev}`);
  }
  if (prev === 0) return null;
  // In hundredths of a percent: 100 × 100 × (cur − prev) / prev.
  const numerator = 10_000n * BigInt(cur - prev);
  const denominator = BigInt(prev);
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let hundredths = magnitude / denominator; // BigInt division truncates
  const remainder = magnitude % denominator;
  if (2n * remainder >= denominator) hundredths += 1n; // half (or more) rounds away from zero
  const whole = hundredths / 100n;
  const fraction = (hundredths % 100n).toString().padStart(2, '0');
  // A change that rounds to zero prints '0.00', never '-0.00'.
  const sign = negative && hundredths !== 0n ? '-' : '';
  return `${sign}${whole}.${fraction}`;
}

// ---- sorted-array helpers ----

/** Index of the first event with eventTs ≥ ts in events sorted by eventTs. */
function firstAtOrAfter(events: readonly ClickEvent[], ts: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as ClickEvent).eventTs < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first event with eventTs > ts in events sorted by eventTs. */
function firstAfter(events: readonly ClickEvent[], ts: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as ClickEvent).eventTs <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events with start ≤ eventTs < end, from events sorted by eventTs. */
function eventsIn(sorted: readonly ClickEvent[], start: number, end: number): readonly ClickEvent[] {
  return sorted.slice(firstAtOrAfter(sorted, start), firstAtOrAfter(sorted, end));
}

function checkSettings(settings: MartSettings): void {
  const positive: (keyof MartSettings)[] = [
    'topDocsEveryMs',
    'clinicalTrendEveryMs',
    'anomalySpanMs',
    'anomalyWarning',
    'anomalyCritical',
  ];
  for (const key of positive) {
    const value = settings[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`settings.${key} must be a positive integer, got ${String(value)}`);
    }
  }
}

/** Hot marts are defined over distinct events; a repeated id means the caller skipped dedup. */
function assertDistinctIds(events: readonly ClickEvent[]): void {
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.eventId)) {
      throw new RangeError(`duplicate event_id ${JSON.stringify(event.eventId)}: deduplicate before evaluating hot marts`);
    }
    seen.add(event.eventId);
  }
}

// ---- hot marts (SPEC §4) ----

/**
 * All four hot marts over a set of on-time, already deduplicated events (a repeated event_id
 * throws). Rows are sorted: traffic by minute; top docs by (snapshot_ts, rank); clinical trend
 * by (snapshot_ts, clinical_area in code-unit order); anomalies by (detected_ts, session_id).
 */
export function evaluateHotMarts(
  events: readonly ClickEvent[],
  settings: MartSettings,
  options: HotEvaluationOptions = {},
): HotMartRows {
  checkSettings(settings);
  assertDistinctIds(events);
  const sorted = [...events].sort(byTimeThenId);
  const newest = options.newestEventTs;
  return {
    traffic: trafficMinutes(sorted),
    topDocs: topDocSnapshots(sorted, settings.topDocsEveryMs, newest),
    clinicalTrend: clinicalTrendSnapshots(sorted, settings.clinicalTrendEveryMs, newest),
    anomalies: anomalyEpisodes(sorted, settings),
  };
}

function trafficMinutes(sorted: readonly ClickEvent[]): TrafficMinuteRow[] {
  const byMinute = new Map<number, ClickEvent[]>();
  for (const event of sorted) {
    const minute = floorToMultiple(event.eventTs, MINUTE_MS);
    let bucket = byMinute.get(minute);
    if (bucket === undefined) byMinute.set(minute, (bucket = []));
    bucket.push(event);
  }
  const rows: TrafficMinuteRow[] = [];
  for (const [eventMinute, bucket] of byMinute) {
    rows.push({
      eventMinute,
      totalClicks: bucket.length,
      uniqueSessions: new Set(bucket.map((e) => e.sessionId)).size,
      uniqueDocs: new Set(bucket.map((e) => e.documentId)).size,
    });
  }
  return rows.sort((a, b) => a.eventMinute - b.eventMinute);
}

/**
 * The snapshot instants T (multiples of every) whose window [T − windowMs, T) may hold one of the
 * sorted events, capped by the stream horizon: the first multiple strictly after newestEventTs.
 */
function snapshotInstants(
  sorted: readonly ClickEvent[],
  every: number,
  windowMs: number,
  newestEventTs: number | undefined,
): number[] {
  if (sorted.length === 0) return [];
  const first = (sorted[0] as ClickEvent).eventTs;
  const last = (sorted[sorted.length - 1] as ClickEvent).eventTs;
  // The earliest window holding `first` ends at the first multiple after it; the latest window
  // holding `last` ends at the last multiple ≤ last + windowMs.
  let lastT = floorToMultiple(last + windowMs, every);
  if (newestEventTs !== undefined) lastT = Math.min(lastT, floorToMultiple(newestEventTs, every) + every);
  const instants: number[] = [];
  for (let t = floorToMultiple(first, every) + every; t <= lastT; t += every) instants.push(t);
  return instants;
}

interface DocumentTally {
  readonly documentId: string;
  clicks: number;
  readonly sessions: Set<string>;
  /** The latest (event_ts, event_id) event with a non-null title so far. */
  titled: ClickEvent | null;
}

function tallyDocuments(windowEvents: readonly ClickEvent[]): DocumentTally[] {
  const tallies = new Map<string, DocumentTally>();
  for (const event of windowEvents) {
    let tally = tallies.get(event.documentId);
    if (tally === undefined) {
      tally = { documentId: event.documentId, clicks: 0, sessions: new Set(), titled: null };
      tallies.set(event.documentId, tally);
    }
    tally.clicks += 1;
    tally.sessions.add(event.sessionId);
    if (event.title !== null && (tally.titled === null || isLaterEvent(event, tally.titled))) tally.titled = event;
  }
  return [...tallies.values()];
}

function topDocSnapshots(sorted: readonly ClickEvent[], every: number, newestEventTs: number | undefined): TopDocRow[] {
  const rows: TopDocRow[] = [];
  for (const snapshotTs of snapshotInstants(sorted, every, TOP_DOCS_WINDOW_MS, newestEventTs)) {
    const windowEvents = eventsIn(sorted, snapshotTs - TOP_DOCS_WINDOW_MS, snapshotTs);
    if (windowEvents.length === 0) continue;
    const ranked = tallyDocuments(windowEvents).sort(
      (a, b) =>
        b.clicks - a.clicks ||
        b.sessions.size - a.sessions.size ||
        compareDocumentIds(a.documentId, b.documentId),
    );
    ranked.slice(0, TOP_DOCS_LIMIT).forEach((tally, index) => {
      rows.push({
        snapshotTs,
        rank: index + 1,
        documentId: tally.documentId,
        title: tally.titled === null ? null : tally.titled.title,
        clickCount: tally.clicks,
        uniqueSessions: tally.sessions.size,
      });
    });
  }
  return rows;
}

/** Assigns 0, 1, 2 … to distinct values in order of first appearance. */
function intern(values: readonly string[]): { readonly names: string[]; readonly indexOf: Int32Array } {
  const index = new Map<string, number>();
  const names: string[] = [];
  const indexOf = new Int32Array(values.length);
  values.forEach((value, i) => {
    let k = index.get(value);
    if (k === undefined) {
      k = names.length;
      index.set(value, k);
      names.push(value);
    }
    indexOf[i] = k;
  });
  return { names, indexOf };
}

function clinicalTrendSnapshots(
  sorted: readonly ClickEvent[],
  every: number,
  newestEventTs: number | undefined,
): ClinicalTrendRow[] {
  // Each snapshot re-reads both of its 24-hour windows in full. That is ~300 snapshots per day
  // times a day of events, so areas and sessions are numbered up front and counted in typed
  // arrays and a numeric set: the same brute force, without hashing strings tens of millions
  // of times.
  const areas = intern(sorted.map((event) => event.clinicalArea));
  const sessions = intern(sorted.map((event) => event.sessionId));
  const areaCount = areas.names.length;
  const rows: ClinicalTrendRow[] = [];
  // An event can be in the previous window of a snapshot up to 48 h after it.
  for (const snapshotTs of snapshotInstants(sorted, every, 2 * CLINICAL_WINDOW_MS, newestEventTs)) {
    const previousFrom = firstAtOrAfter(sorted, snapshotTs - 2 * CLINICAL_WINDOW_MS);
    const currentFrom = firstAtOrAfter(sorted, snapshotTs - CLINICAL_WINDOW_MS);
    const currentTo = firstAtOrAfter(sorted, snapshotTs);
    if (previousFrom === currentTo) continue; // both windows empty

    const currentClicks = new Int32Array(areaCount);
    const currentSessions = new Int32Array(areaCount);
    const previousClicks = new Int32Array(areaCount);
    const seenAreaSession = new Set<number>();
    for (let i = currentFrom; i < currentTo; i++) {
      const area = areas.indexOf[i] as number;
      currentClicks[area] = (currentClicks[area] as number) + 1;
      const pair = area * sessions.names.length + (sessions.indexOf[i] as number);
      if (!seenAreaSession.has(pair)) {
        seenAreaSession.add(pair);
        currentSessions[area] = (currentSessions[area] as number) + 1;
      }
    }
    for (let i = previousFrom; i < currentFrom; i++) {
      const area = areas.indexOf[i] as number;
      previousClicks[area] = (previousClicks[area] as number) + 1;
    }

    const present: number[] = [];
    for (let area = 0; area < areaCount; area++) {
      if ((currentClicks[area] as number) > 0 || (previousClicks[area] as number) > 0) present.push(area);
    }
    present.sort((a, b) => compareCodeUnits(areas.names[a] as string, areas.names[b] as string));
    for (const area of present) {
      const clickCount = currentClicks[area] as number;
      rows.push({
        snapshotTs,
        clinicalArea: areas.names[area] as string,
        clickCount,
        uniqueSessions: currentSessions[area] as number,
        trendPct: formatTrendPct(clickCount, previousClicks[area] as number),
      });
    }
  }
  return rows;
}

function anomalyEpisodes(sorted: readonly ClickEvent[], settings: MartSettings): AnomalyRow[] {
  const { anomalySpanMs: span, anomalyWarning: warning, anomalyCritical: critical } = settings;
  // `sorted` is in (event_ts, event_id) order, so each session's list is too.
  const bySession = new Map<string, ClickEvent[]>();
  for (const event of sorted) {
    let list = bySession.get(event.sessionId);
    if (list === undefined) bySession.set(event.sessionId, (list = []));
    list.push(event);
  }

  const rows: AnomalyRow[] = [];
  for (const [sessionId, sessionEvents] of bySession) {
    // Trailing count of each event: the session's events with event_ts in (ts − span, ts],
    // i.e. (number with event_ts ≤ ts) − (number with event_ts ≤ ts − span). Events sharing
    // a timestamp therefore share a count, whatever their event_ids.
    const counts = sessionEvents.map(
      (event) => firstAfter(sessionEvents, event.eventTs) - firstAfter(sessionEvents, event.eventTs - span),
    );
    let i = 0;
    while (i < counts.length) {
      if ((counts[i] as number) < warning) {
        i += 1;
        continue;
      }
      // counts[i] ≥ warning and the previous event (if any) was below it: an episode starts.
      const start = sessionEvents[i] as ClickEvent;
      let end = i;
      let maxCount = counts[i] as number;
      while (end + 1 < counts.length && (counts[end + 1] as number) >= warning) {
        end += 1;
        maxCount = Math.max(maxCount, counts[end] as number);
      }
      rows.push({
        detectedTs: start.eventTs,
        sessionId,
        windowStart: start.eventTs - span,
        windowEnd: (sessionEvents[end] as ClickEvent).eventTs,
        clickCount: maxCount,
        severity: maxCount >= critical ? 'CRITICAL' : 'WARNING',
      });
      i = end + 1;
    }
  }
  return rows.sort((a, b) => a.detectedTs - b.detectedTs || compareCodeUnits(a.sessionId, b.sessionId));
}

// ---- cold marts (SPEC §5) ----

/**
 * Keeps the first occurrence of every event_id, in input order. Duplicates carry identical
 * fields in practice (producer retries, replayed offsets); if they ever differ, the first one
 * read wins, which for the cold path is archive order.
 */
export function dedupeByEventId(events: readonly ClickEvent[]): ClickEvent[] {
  const seen = new Set<string>();
  const out: ClickEvent[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    out.push(event);
  }
  return out;
}

function groupBy<K>(events: readonly ClickEvent[], keyOf: (event: ClickEvent) => K): Map<K, ClickEvent[]> {
  const groups = new Map<K, ClickEvent[]>();
  for (const event of events) {
    const key = keyOf(event);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(event);
  }
  return groups;
}

/**
 * The four cold marts per event_date in settings.timeZone, over every archived event (late ones
 * included). Duplicate event_ids are dropped first (dedupeByEventId: the first occurrence in
 * input order is kept). Rows are sorted by event_date, then by the rest of the primary key:
 * session_id / clinical_area in code-unit order, document_id numerically.
 */
export function evaluateColdMarts(events: readonly ClickEvent[], settings: MartSettings): ColdMartRows {
  const zone = settings.timeZone;
  const unique = dedupeByEventId(events);
  const byDate = groupBy(unique, (event) => localDate(event.eventTs, zone));
  const dates = [...byDate.keys()].sort(compareCodeUnits);

  const sessionAnalysis: SessionAnalysisRow[] = [];
  const dailyTraffic: DailyTrafficRow[] = [];
  const clinicalAreas: ClinicalAreaRow[] = [];
  const popularDocuments: PopularDocumentRow[] = [];

  for (const eventDate of dates) {
    const dayEvents = byDate.get(eventDate) as ClickEvent[];

    const sessions = groupBy(dayEvents, (event) => event.sessionId);
    for (const sessionId of [...sessions.keys()].sort(compareCodeUnits)) {
      const sessionEvents = sessions.get(sessionId) as ClickEvent[];
      let firstClickTs = Infinity;
      let lastClickTs = -Infinity;
      for (const event of sessionEvents) {
        firstClickTs = Math.min(firstClickTs, event.eventTs);
        lastClickTs = Math.max(lastClickTs, event.eventTs);
      }
      sessionAnalysis.push({
        sessionId,
        eventDate,
        clickCount: sessionEvents.length,
        uniqueDocs: new Set(sessionEvents.map((event) => event.documentId)).size,
        firstClickTs,
        lastClickTs,
        sessionDurationSec: Math.floor((lastClickTs - firstClickTs) / 1000),
      });
    }

    const perHour = new Array<number>(24).fill(0);
    for (const event of dayEvents) {
      const hour = localHour(event.eventTs, zone);
      perHour[hour] = (perHour[hour] as number) + 1;
    }
    let peakHour = 0;
    for (let hour = 1; hour < 24; hour++) {
      // Strictly greater: on a tie the earlier hour stays.
      if ((perHour[hour] as number) > (perHour[peakHour] as number)) peakHour = hour;
    }
    dailyTraffic.push({
      eventDate,
      totalEvents: dayEvents.length,
      uniqueSessions: sessions.size,
      uniqueDocuments: new Set(dayEvents.map((event) => event.documentId)).size,
      peakHour,
    });

    const areas = groupBy(dayEvents, (event) => event.clinicalArea);
    for (const clinicalArea of [...areas.keys()].sort(compareCodeUnits)) {
      const areaEvents = areas.get(clinicalArea) as ClickEvent[];
      clinicalAreas.push({
        eventDate,
        clinicalArea,
        searchCount: areaEvents.length,
        uniqueSessions: new Set(areaEvents.map((event) => event.sessionId)).size,
      });
    }

    for (const tally of tallyDocuments(dayEvents).sort((a, b) => compareDocumentIds(a.documentId, b.documentId))) {
      popularDocuments.push({
        eventDate,
        documentId: tally.documentId,
        title: tally.titled === null ? null : tally.titled.title,
        viewCount: tally.clicks,
        uniqueSessions: tally.sessions.size,
      });
    }
  }

  return { sessionAnalysis, dailyTraffic, clinicalAreas, popularDocuments };
}
