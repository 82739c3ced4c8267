// The four cold marts of one event_date (SPEC §5), accumulated batch by batch as the day's
// archive is read one Parquet row group at a time. Memory grows with the distinct keys of the
// day (sessions, documents, areas) plus the set of event_ids already seen — never with a copy
// of the events themselves.
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

// Most sessions open only a handful of documents: a short array scanned linearly costs less
// time and memory than a Set per session (millions of them on a busy day), and turns into a Set
// only past SMALL_SET.
const SMALL_SET = 16;

interface SessionTally {
  clicks: number;
  docs: string[] | Set<string>;
  firstTs: number;
  lastTs: number;
}

interface AreaTally {
  clicks: number;
  readonly sessions: Set<string>;
}

interface DocumentTally {
  clicks: number;
  readonly sessions: Set<string>;
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
  // structure bounded by the day's events rather than its keys (~100 B per id). A later
  // optimisation: dedup per hour bucket when the archive is sorted by event_ts within a date, or
  // a two-pass hash-partitioned dedup (ids partitioned by hash, one partition in memory at a time).
  private readonly seenIds = new Set<string>();
  private readonly sessions = new Map<string, SessionTally>();
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
    for (const event of events) {
      if (event.eventTs < this.dayStart || event.eventTs >= this.dayEnd) {
        this.ignored++;
        continue;
      }
      if (this.seenIds.has(event.eventId)) {
        this.duplicates++;
        continue;
      }
      this.seenIds.add(event.eventId);
      this.apply(event);
    }
  }

  private apply(event: ClickEvent): void {
    this.total++;
    const hour = localHour(event.eventTs, this.timeZone);
    this.perHour[hour] = (this.perHour[hour] as number) + 1;

    let session = this.sessions.get(event.sessionId);
    if (session === undefined) {
      session = { clicks: 0, docs: [], firstTs: event.eventTs, lastTs: event.eventTs };
      this.sessions.set(event.sessionId, session);
    }
    session.clicks++;
    const docs = session.docs;
    if (!Array.isArray(docs)) docs.add(event.documentId);
    else if (!docs.includes(event.documentId)) {
      docs.push(event.documentId);
      if (docs.length > SMALL_SET) session.docs = new Set(docs);
    }
    if (event.eventTs < session.firstTs) session.firstTs = event.eventTs;
    if (event.eventTs > session.lastTs) session.lastTs = event.eventTs;

    let area = this.areas.get(event.clinicalArea);
    if (area === undefined) this.areas.set(event.clinicalArea, (area = { clicks: 0, sessions: new Set() }));
    area.clicks++;
    area.sessions.add(event.sessionId);

    let doc = this.documents.get(event.documentId);
    if (doc === undefined) {
      doc = { clicks: 0, sessions: new Set(), titleTs: Number.NEGATIVE_INFINITY, titleEventId: '', title: null };
      this.documents.set(event.documentId, doc);
    }
    doc.clicks++;
    doc.sessions.add(event.sessionId);
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
   * daily_traffic row of zeros), as a recompute from an empty archive would give.
   */
  rows(): ColdMartRows {
    const eventDate = this.eventDate;
    if (this.total === 0) return { sessionAnalysis: [], dailyTraffic: [], clinicalAreas: [], popularDocuments: [] };

    const sessionAnalysis: SessionAnalysisRow[] = [...this.sessions.keys()].sort(compareCodeUnits).map((sessionId) => {
      const s = this.sessions.get(sessionId) as SessionTally;
      return {
        sessionId,
        eventDate,
        clickCount: s.clicks,
        uniqueDocs: Array.isArray(s.docs) ? s.docs.length : s.docs.size,
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
      return { eventDate, clinicalArea, searchCount: a.clicks, uniqueSessions: a.sessions.size };
    });

    const popularDocuments: PopularDocumentRow[] = [...this.documents.keys()].sort(compareDecimalIds).map((documentId) => {
      const d = this.documents.get(documentId) as DocumentTally;
      return { eventDate, documentId, title: d.title, viewCount: d.clicks, uniqueSessions: d.sessions.size };
    });

    return { sessionAnalysis, dailyTraffic, clinicalAreas, popularDocuments };
  }
}
