// The four cold marts of one event_date (SPEC §5), accumulated batch by batch as the day's
// archive is read one Parquet row group at a time. Memory grows with the distinct keys of the
// day (sessions and the documents/areas each touched, documents, areas) plus the set of
// event_ids already seen — never with a copy of the events themselves.
import { EventIdSet } from './event-id-set.ts';
import { NEW_AREA, NEW_DOCUMENT, SessionTallies } from './session-tallies.ts';
import { endOfLocalDay, localHour, startOfLocalDay } from '../marts/time-zone.ts';
import type {
  ClickEvent,
  ClinicalAreaRow,
  ColdMartRows,
  DailyTrafficRow,
  PopularDocumentRow,
  SessionAnalysisRow,
} from '../marts/types.ts';
import { compareCodeUnits, compareDecimalIds } from '../marts/window-math.ts';

// Distinct counts per document and per area are counted through the sessions: a session's
// first click on a document (or in an area) adds one to that document's (area's) unique_sessions.
// So each session keeps the small lists of the documents and areas it touched — which it needs
// anyway for its own unique_docs — and no document or area holds a set of session ids. Documents
// and areas are numbered on first sight, so those lists hold small integers (SessionTallies).

interface AreaTally {
  readonly index: number;
  clicks: number;
  sessions: number;
}

interface DocumentTally {
  readonly index: number;
  clicks: number;
  sessions: number;
  /** The latest (event_ts, event_id) event with a non-null title; null while none had one. */
  titleTs: number;
  titleEventId: string;
  title: string | null;
}

const HOURS_PER_DAY = 24;

export class ColdDayAccumulator {
  readonly eventDate: string;
  readonly timeZone: string;
  // Exact dedup needs every event_id of the day: the archive holds duplicates anywhere in the
  // day (producer retries, replayed offsets), so no shorter horizon is safe. This set is the one
  // structure bounded by the day's events rather than its keys, hence packed into typed arrays
  // (EventIdSet: ~25 B per id instead of ~70 B as strings in a Set).
  // Null once rows() has ended the day: the set is released before the rows are built, so that
  // the day's biggest structure and its output are never in memory together.
  private seenIds: EventIdSet | null = new EventIdSet();
  private readonly sessions = new SessionTallies();
  private readonly areas = new Map<string, AreaTally>();
  private readonly documents = new Map<string, DocumentTally>();
  private readonly perHour = new Array<number>(HOURS_PER_DAY).fill(0);
  private total = 0;
  private ignored = 0;
  private duplicates = 0;

  // The day as an instant range: comparing numbers per event instead of formatting a local date.
  private readonly dayStart: number;
  private readonly dayEnd: number;

  constructor(eventDate: string, timeZone: string) {
    this.eventDate = eventDate;
    this.timeZone = timeZone;
    this.dayStart = startOfLocalDay(eventDate, timeZone);
    this.dayEnd = endOfLocalDay(eventDate, timeZone);
  }

  /** Events seen whose local date is not this day (a reader's file may straddle dates). */
  get ignoredEvents(): number {
    return this.ignored;
  }

  /** Events dropped because their event_id had already been added. */
  get duplicateEvents(): number {
    return this.duplicates;
  }

  /** Distinct events of the day added so far. */
  get totalEvents(): number {
    return this.total;
  }

  /**
   * Adds a batch in archive order. The archive is written in Kafka offset order, so keeping the
   * FIRST occurrence of an event_id keeps the one with the lowest offset — the same choice the
   * stream makes (first applied wins) and the reference evaluator's dedupeByEventId makes.
   */
  add(events: readonly ClickEvent[]): void {
    const seenIds = this.seenIds;
    if (seenIds === null) throw new Error(`cold day ${this.eventDate}: add() after rows() (the dedup set is released by rows())`);
    for (const event of events) {
      if (event.eventTs < this.dayStart || event.eventTs >= this.dayEnd) {
        this.ignored++;
        continue;
      }
      if (!seenIds.add(event.eventId)) {
        this.duplicates++;
        continue;
      }
      this.apply(event);
    }
  }

  private apply(event: ClickEvent): void {
    this.total++;
    const hour = localHour(event.eventTs, this.timeZone);
    this.perHour[hour] = (this.perHour[hour] as number) + 1;

    let area = this.areas.get(event.clinicalArea);
    if (area === undefined) this.areas.set(event.clinicalArea, (area = { index: this.areas.size, clicks: 0, sessions: 0 }));
    area.clicks++;

    let doc = this.documents.get(event.documentId);
    if (doc === undefined) {
      doc = { index: this.documents.size, clicks: 0, sessions: 0, titleTs: Number.NEGATIVE_INFINITY, titleEventId: '', title: null };
      this.documents.set(event.documentId, doc);
    }
    doc.clicks++;

    const touched = this.sessions.click(event.sessionId, event.eventTs, doc.index, area.index);
    if (touched & NEW_AREA) area.sessions++;
    if (touched & NEW_DOCUMENT) doc.sessions++;
    // Latest by (event_ts, event_id): batches arrive in offset order, not time order, so the
    // comparison is explicit rather than "last one wins".
    if (
      event.title !== null &&
      (doc.title === null || event.eventTs > doc.titleTs || (event.eventTs === doc.titleTs && event.eventId > doc.titleEventId))
    ) {
      doc.title = event.title;
      doc.titleTs = event.eventTs;
      doc.titleEventId = event.eventId;
    }
  }

  /**
   * The day's rows, sorted like the reference evaluator: by session_id / clinical_area in
   * code-unit order, document_id numerically. A day without events has no rows at all (not a
   * daily_traffic row of zeros), as a recompute from an empty archive would give. Ends the day:
   * the dedup set is freed before the rows are built and the session tallies after, so neither
   * add() nor rows() may be called again.
   */
  rows(): ColdMartRows {
    if (this.seenIds === null) throw new Error(`cold day ${this.eventDate}: rows() called twice (the tallies are released by the first call)`);
    this.seenIds.release();
    this.seenIds = null;
    const eventDate = this.eventDate;
    if (this.total === 0) return { sessionAnalysis: [], dailyTraffic: [], clinicalAreas: [], popularDocuments: [] };

    const sessionAnalysis: SessionAnalysisRow[] = [...this.sessions.ids()].sort(compareCodeUnits).map((sessionId) => {
      const s = this.sessions.tally(sessionId);
      return {
        sessionId,
        eventDate,
        clickCount: s.clicks,
        uniqueDocs: s.documents,
        firstClickTs: s.firstTs,
        lastClickTs: s.lastTs,
        sessionDurationSec: Math.floor((s.lastTs - s.firstTs) / 1000),
      };
    });

    // On a 25-hour day the repeated local hour counts both of its instances (SPEC: local hour).
    let peakHour = 0;
    for (let hour = 1; hour < HOURS_PER_DAY; hour++) {
      if ((this.perHour[hour] as number) > (this.perHour[peakHour] as number)) peakHour = hour; // ties: earliest
    }
    const dailyTraffic: DailyTrafficRow[] = [
      { eventDate, totalEvents: this.total, uniqueSessions: this.sessions.size, uniqueDocuments: this.documents.size, peakHour },
    ];

    const clinicalAreas: ClinicalAreaRow[] = [...this.areas.keys()].sort(compareCodeUnits).map((clinicalArea) => {
      const a = this.areas.get(clinicalArea) as AreaTally;
      return { eventDate, clinicalArea, searchCount: a.clicks, uniqueSessions: a.sessions };
    });

    const popularDocuments: PopularDocumentRow[] = [...this.documents.keys()].sort(compareDecimalIds).map((documentId) => {
      const d = this.documents.get(documentId) as DocumentTally;
      return { eventDate, documentId, title: d.title, viewCount: d.clicks, uniqueSessions: d.sessions };
    });

    this.sessions.release();
    return { sessionAnalysis, dailyTraffic, clinicalAreas, popularDocuments };
  }
}
