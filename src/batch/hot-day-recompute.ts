// Reconcile's recompute of the hot marts for one local day D (SPEC §6.3): every hot row whose
// minute / snapshot_ts / detected_ts falls in [startOfLocalDay(D), endOfLocalDay(D)), computed
// from the archive in one pass over it and a few sweeps over compact columns (src/batch/hot-day/).
//
// Why not replay the day through the stream processor, which would define the hot marts once?
// That is what reconcile did first, and at 10M events a day it took ~240 s and ~4.4 GiB: the
// replay needs the events in time order (the archive is in offset order, so the days were held
// and sorted), and the processor writes partial rows per document and snapshot for exactness
// across partitions, which a single-pass batch does not need. The batch computation here is a
// second definition; the tests hold both to the reference evaluator, and the reconcile test to
// the stream's own output.
import type { AnomalyRow, ClickEvent, HotMartRows, MartSettings } from '../marts/types.ts';
import { addDays, endOfLocalDay, localDate, startOfLocalDay } from '../marts/time-zone.ts';
import { CLINICAL_WINDOW_MS, TOP_DOCS_WINDOW_MS, UNKNOWN_CLINICAL_AREA } from '../marts/types.ts';
import { MINUTE_MS } from '../marts/window-math.ts';
import { columnsOf, documentNumberAt } from './click-columns.ts';
import { DocumentNumbering } from './document-numbering.ts';
import type { ClickColumns } from './click-columns.ts';
import { EventIdSet } from './event-id-set.ts';
import { anomalyRows } from './hot-day/anomalies.ts';
import { AREA_STRIDE, AreaMinuteClicks, clinicalTrendRows, PriorPairs, trendSnapshots } from './hot-day/clinical-trend.ts';
import { DayRecords, NO_TITLE } from './hot-day/day-records.ts';
import type { MinuteGroups } from './hot-day/hot-day-data.ts';
import { Interner } from './hot-day/interner.ts';
import { StringNumbering } from './string-numbering.ts';
import { topDocRows } from './hot-day/top-docs.ts';
import { trafficRows } from './hot-day/traffic.ts';

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

/**
 * Collects the input of one day's hot recompute, batch by batch in archive order, and computes
 * the rows. Duplicated event_ids keep their first occurrence (archive order = offset order, as in
 * the cold path), per event_date as in the cold path: a duplicate carries its original's
 * event_ts, so it is filed under the same date.
 *
 * Memory: each event from an hour before D to the end of D is kept as 19 B of columns
 * (DayRecords), plus the dedup set of each date while it is read and the numbering of sessions.
 * Events of D−2 and D−1 before that hour are reduced on arrival to clicks per (area, minute) and
 * the latest instant per (area, session) pair; events of D+1 only count for sessions seen in D.
 *
 * One limit of exactness, by design: whether an episode starting early in D continues one from
 * more than an hour before is decided from the events of that hour. The two can only be joined
 * when the session has ANOMALY_WARNING clicks within a single millisecond at both ends of a gap
 * longer than a span, a pattern no real client produces.
 */
export class HotDayRecompute {
  readonly day: string;
  readonly settings: MartSettings;
  readonly input: HotDayInput;
  private readonly dates: readonly string[];
  private readonly dateStarts: readonly number[];
  /** One dedup set per date read (and one for events outside them); null once released. */
  private readonly idSets: (EventIdSet | null)[];
  private readonly recordFrom: number;
  private readonly records: DayRecords;
  private readonly sessions = new StringNumbering();
  private readonly documents = new DocumentNumbering();
  private readonly areas = new Interner();
  private readonly titles = new Interner();
  private activeInDay = new Uint8Array(1 << 12);
  /** Per document number: the area and title numbers of its last event. */
  private readonly lastAreaOf: number[] = [];
  private readonly lastTitleOf: number[] = [];
  private readonly trend: { readonly windowFrom: number; readonly clicks: AreaMinuteClicks; readonly prior: PriorPairs } | null;
  private done = false;

  constructor(day: string, settings: MartSettings) {
    for (const cadence of [settings.topDocsEveryMs, settings.clinicalTrendEveryMs]) {
      if (cadence % MINUTE_MS !== 0) throw new RangeError(`hot recompute: snapshot cadences are whole minutes, got ${cadence} ms`);
    }
    this.day = day;
    this.settings = settings;
    this.input = hotDayInput(day, settings);
    const { dayStart, dayEnd } = this.input;
    this.dates = [...this.input.requiredDates, this.input.continuationDate];
    this.dateStarts = [...this.dates.map((d) => startOfLocalDay(d, settings.timeZone)), endOfLocalDay(this.input.continuationDate, settings.timeZone)];
    this.idSets = Array.from({ length: this.dates.length + 1 }, () => new EventIdSet());
    // Events kept one by one: the top documents' hour and two anomaly spans before D, and D.
    this.recordFrom = dayStart - Math.max(TOP_DOCS_WINDOW_MS, 2 * settings.anomalySpanMs);
    this.records = new DayRecords(this.recordFrom);
    const snapshots = trendSnapshots(settings.clinicalTrendEveryMs, dayStart, dayEnd);
    if (snapshots.count === 0) this.trend = null;
    else {
      const lastSnapshot = snapshots.first + (snapshots.count - 1) * settings.clinicalTrendEveryMs;
      const clicksFrom = snapshots.first - 2 * CLINICAL_WINDOW_MS;
      this.trend = {
        windowFrom: snapshots.first - CLINICAL_WINDOW_MS,
        clicks: new AreaMinuteClicks(clicksFrom, (lastSnapshot - clicksFrom) / MINUTE_MS),
        prior: new PriorPairs(),
      };
    }
  }

  add(events: readonly ClickEvent[]): void {
    this.addColumns(columnsOf(events));
  }

  /** add() for a batch of columns, as the archive reader decodes them (no object per event). */
  addColumns(batch: ClickColumns): void {
    if (this.done) throw new Error(`hot recompute of ${this.day}: add() after rows()`);
    const { from, dayStart, dayEnd } = this.input;
    // Not eventIds / sessionIds / documentIds: reading them would make the strings the bytes and
    // values are there to avoid.
    const { eventTs, titles, clinicalAreas, eventIdBytes, sessionIdBytes } = batch;
    // Ids and sessions are read from their UTF-8 bytes when the batch has them (no strings made).
    const sessionOf = (i: number, insert: boolean): number => {
      if (sessionIdBytes === undefined) {
        const sessionId = batch.sessionIds[i] as string;
        return insert ? this.sessionNumber(sessionId) : this.sessions.lookup(sessionId);
      }
      const { bytes, offsets } = sessionIdBytes;
      const start = offsets[i] as number;
      const end = offsets[i + 1] as number;
      return insert ? this.sessionNumberOf(this.sessions.internUtf8(bytes, start, end)) : this.sessions.lookupUtf8(bytes, start, end);
    };
    for (let i = 0; i < batch.numRows; i++) {
      const ts = eventTs[i] as number;
      if (ts < from) continue;
      const date = this.dateIndexOf(ts);
      const ids = this.idSets[date];
      if (ids === null || ids === undefined) {
        throw new Error(`hot recompute of ${this.day}: an event of ${this.dates[date] ?? 'another date'} arrived after that date was read (a mis-filed archive object?)`);
      }
      const ref =
        eventIdBytes === undefined
          ? ids.addRef(batch.eventIds[i] as string)
          : ids.addRefUtf8(eventIdBytes.bytes, eventIdBytes.offsets[i] as number, eventIdBytes.offsets[i + 1] as number);
      if (ref < 0) continue;

      const rawArea = clinicalAreas[i];
      const clinicalArea = rawArea === null || rawArea === undefined || rawArea === '' ? UNKNOWN_CLINICAL_AREA : rawArea;
      if (ts >= dayEnd) {
        // D+1: only the continuation of sessions active in D matters (episodes past midnight).
        const session = sessionOf(i, false);
        if (session >= 0 && this.activeInDay[session] === 1) this.records.push(ts, session, -1, -1, NO_TITLE, date, 0);
        continue;
      }
      if (ts < this.recordFrom) {
        const area = this.areaNumber(clinicalArea, -1);
        this.trend?.clicks.add(area, ts);
        if (this.trend !== null && ts >= this.trend.windowFrom) this.trend.prior.add(sessionOf(i, true), area, ts);
        continue;
      }
      // A document's events nearly always carry the same area and title: comparing with the
      // document's last ones saves two string hashes per event.
      const document = documentNumberAt(batch, i, this.documents);
      const area = this.areaNumber(clinicalArea, this.lastAreaOf[document] ?? -1);
      this.lastAreaOf[document] = area;
      this.trend?.clicks.add(area, ts);
      const eventTitle = titles[i] ?? null;
      let title = NO_TITLE;
      if (eventTitle !== null) this.lastTitleOf[document] = title = this.titles.intern(eventTitle, this.lastTitleOf[document] ?? -1);
      const session = sessionOf(i, true);
      if (ts >= dayStart) this.activeInDay[session] = 1;
      this.records.push(ts, session, document, area, title, date, ref);
    }
  }

  private areaNumber(clinicalArea: string, likely: number): number {
    const area = this.areas.intern(clinicalArea, likely);
    if (area >= AREA_STRIDE) throw new RangeError(`hot recompute of ${this.day}: more than ${AREA_STRIDE} clinical areas`);
    return area;
  }

  /**
   * Makes room for the events of D, e.g. from the archive's object names (namedMessageCount),
   * just before D is read: at 10M events, growing the columns and D's dedup table as they fill
   * would copy them several times and leave up to a quarter of the columns unused.
   */
  reserve(eventsOfDay: number): void {
    this.records.reserve(this.records.length + eventsOfDay);
    const day = this.dates.indexOf(this.day);
    if (this.idSets[day]?.size === 0) this.idSets[day] = new EventIdSet(eventsOfDay);
  }

  /**
   * Tells that every archive object of `date` has been read: its dedup set is no longer needed
   * for lookups (freed entirely when no record refers to its ids).
   */
  dateRead(date: string): void {
    const index = this.dates.indexOf(date);
    const ids = this.idSets[index];
    if (index < 0 || ids === null || ids === undefined) return;
    if ((this.dateStarts[index + 1] as number) <= this.recordFrom) {
      ids.release();
      this.idSets[index] = null;
    } else ids.releaseIndex();
  }

  rows(): HotMartRows {
    this.done = true;
    const { dayStart, dayEnd } = this.input;
    // Traffic and top documents walk the records minute by minute; the trend's sessions and
    // the anomalies session by session. One grouping at a time is held.
    const { traffic, topDocs } = this.minuteMarts();
    // Event ids only broke ties between top documents' titles.
    for (const ids of this.idSets) ids?.release();
    this.records.releaseMinuteColumns();
    const bySession = this.records.bySession(this.sessions.size);
    const clinicalTrend =
      this.trend === null
        ? []
        : clinicalTrendRows({
            records: this.records,
            bySession,
            sessionCount: this.sessions.size,
            areas: this.areas,
            clicks: this.trend.clicks,
            prior: this.trend.prior,
            every: this.settings.clinicalTrendEveryMs,
            dayStart,
            dayEnd,
          });
    const anomalies: AnomalyRow[] = anomalyRows({
      records: this.records,
      bySession,
      sessions: this.sessions,
      activeInDay: (session) => this.activeInDay[session] === 1,
      settings: this.settings,
      dayStart,
      dayEnd,
    });
    for (const ids of this.idSets) ids?.release();
    return { traffic, topDocs, clinicalTrend, anomalies };
  }

  /** The marts computed minute by minute; the grouping by minute is dropped on return. */
  private minuteMarts(): Pick<HotMartRows, 'traffic' | 'topDocs'> {
    const { dayStart, dayEnd } = this.input;
    const firstMinute = Math.floor(this.recordFrom / MINUTE_MS) * MINUTE_MS;
    const minutes = Math.ceil((dayEnd - firstMinute) / MINUTE_MS);
    const groups: MinuteGroups = { firstMinute, minutes, ...this.records.byMinute(firstMinute, minutes) };
    return {
      traffic: trafficRows(this.records, groups, this.sessions.size, this.documents.size, dayStart, dayEnd),
      topDocs: topDocRows({
        records: this.records,
        groups,
        sessions: this.sessions,
        documents: this.documents,
        titles: this.titles,
        documentRank: this.documents.ranks(),
        compareEventIds: (a, b) => this.compareEventIds(a, b),
        every: this.settings.topDocsEveryMs,
        dayStart,
        dayEnd,
      }),
    };
  }

  /** Compares the event_ids of two records (code-unit order). */
  private compareEventIds(rowA: number, rowB: number): number {
    const records = this.records;
    const setA = records.idSetAt(rowA);
    const setB = records.idSetAt(rowB);
    const ids = this.idSets[setA];
    const other = this.idSets[setB];
    if (ids === null || ids === undefined || other === null || other === undefined) {
      throw new Error('hot recompute: an event_id reference into a released set');
    }
    if (setA === setB) return ids.compareRefs(records.idRefAt(rowA), records.idRefAt(rowB));
    const idA = ids.idAt(records.idRefAt(rowA));
    const idB = other.idAt(records.idRefAt(rowB));
    return idA < idB ? -1 : idA > idB ? 1 : 0;
  }

  /** Which dedup set an instant belongs to: its date's, or the last one for instants outside the dates read. */
  private dateIndexOf(ts: number): number {
    const starts = this.dateStarts;
    if (ts < (starts[0] as number) || ts >= (starts[starts.length - 1] as number)) return this.dates.length;
    let i = starts.length - 2;
    while (ts < (starts[i] as number)) i--;
    return i;
  }

  private sessionNumber(sessionId: string): number {
    return this.sessionNumberOf(this.sessions.intern(sessionId));
  }

  /** A session's number, with room for its activeInDay flag. */
  private sessionNumberOf(session: number): number {
    if (session === this.activeInDay.length) {
      const grown = new Uint8Array(2 * session);
      grown.set(this.activeInDay);
      this.activeInDay = grown;
    }
    return session;
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
