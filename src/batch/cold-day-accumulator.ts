// The four cold marts of one event_date (SPEC §5), accumulated batch by batch as the day's
// archive is read one Parquet row group at a time. Memory grows with the distinct keys of the
// day (sessions and the documents/areas each touched, documents, areas) plus the set of
// event_ids already seen — never with a copy of the events themselves.
import { columnsOf, documentNumberAt } from './click-columns.ts';
import { DocumentNumbering } from './document-numbering.ts';
import type { ClickColumns } from './click-columns.ts';
import { EventIdSet } from './event-id-set.ts';
import { NEW_AREA, NEW_DOCUMENT, SessionTallies } from './session-tallies.ts';
import { DayHours } from './day-hours.ts';
import { endOfLocalDay, startOfLocalDay } from '../marts/time-zone.ts';
import { UNKNOWN_CLINICAL_AREA } from '../marts/types.ts';
import type {
  ClickEvent,
  ClinicalAreaRow,
  ColdMartChunks,
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
  readonly name: string;
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
  /** Its event_id's reference in the dedup set (EventIdSet.addRef), −1 before the first. */
  titleRef: number;
  /** The area of its last event. */
  lastArea: AreaTally | null;
  title: string | null;
}

const HOURS_PER_DAY = 24;

/**
 * Session rows per chunk of finish(): a chunk's rows (and what the writer makes of them) die in
 * V8's young generation, instead of being promoted as a whole day's rows were.
 */
export const SESSION_CHUNK_ROWS = 8192;

export class ColdDayAccumulator {
  readonly eventDate: string;
  readonly timeZone: string;
  // Exact dedup needs every event_id of the day: the archive holds duplicates anywhere in the
  // day (producer retries, replayed offsets), so no shorter horizon is safe. This set is the one
  // structure bounded by the day's events rather than its keys, hence packed into typed arrays
  // (EventIdSet: ~25 B per id instead of ~70 B as strings in a Set).
  // Null once rows() has ended the day: the set is released before the rows are built, so that
  // the day's biggest structure and its output are never in memory together.
  private seenIds: EventIdSet | null;
  private readonly sessions: SessionTallies;
  private readonly areas = new Map<string, AreaTally>();
  private readonly documentNumbers = new DocumentNumbering();
  /** Per document number. */
  private readonly documents: DocumentTally[] = [];
  private readonly perHour = new Array<number>(HOURS_PER_DAY).fill(0);
  private total = 0;
  private ignored = 0;
  private duplicates = 0;

  // The day as an instant range: comparing numbers per event instead of formatting a local date.
  private readonly dayStart: number;
  private readonly dayEnd: number;
  private readonly hours: DayHours;

  /** expectedEvents: about how many events the day's archive holds (sizes the dedup set once). */
  constructor(eventDate: string, timeZone: string, expectedEvents = 0) {
    this.seenIds = new EventIdSet(expectedEvents);
    this.eventDate = eventDate;
    this.timeZone = timeZone;
    this.dayStart = startOfLocalDay(eventDate, timeZone);
    this.dayEnd = endOfLocalDay(eventDate, timeZone);
    this.hours = new DayHours(this.dayStart, this.dayEnd, timeZone);
    this.sessions = new SessionTallies(this.dayStart);
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
    this.addColumns(columnsOf(events));
  }


  /**
   * add() for a batch as columns (the archive reader's batches), without a ClickEvent per row:
   * at 10M events those objects were a tenth of the cold step's CPU time, most of it in the
   * garbage collector. A null or '' clinical area counts as UNKNOWN_CLINICAL_AREA, as in a
   * ClickEvent; every other column must hold a valid event's values.
   */
  addColumns(batch: ClickColumns): void {
    const seenIds = this.openSet();
    // Not eventIds / sessionIds / documentIds: when the bytes and values are there, reading
    // those would make the strings they spare.
    const { eventTs, titles, clinicalAreas, eventIdBytes, sessionIdBytes } = batch;
    for (let i = 0; i < batch.numRows; i++) {
      const ts = eventTs[i] as number;
      if (ts < this.dayStart || ts >= this.dayEnd) {
        this.ignored++;
        continue;
      }
      const ref =
        eventIdBytes === undefined
          ? seenIds.addRef(batch.eventIds[i] as string)
          : seenIds.addRefUtf8(eventIdBytes.bytes, eventIdBytes.offsets[i] as number, eventIdBytes.offsets[i + 1] as number);
      if (ref < 0) {
        this.duplicates++;
        continue;
      }
      const area = clinicalAreas[i];
      const doc = this.countDocument(documentNumberAt(batch, i, this.documentNumbers));
      const areaTally = this.countArea(area === null || area === undefined || area === '' ? UNKNOWN_CLINICAL_AREA : area, doc);
      const touched =
        sessionIdBytes === undefined
          ? this.sessions.click(batch.sessionIds[i] as string, ts, doc.index, areaTally.index)
          : this.sessions.clickUtf8(sessionIdBytes.bytes, sessionIdBytes.offsets[i] as number, sessionIdBytes.offsets[i + 1] as number, ts, doc.index, areaTally.index);
      this.countEvent(ts, ref, areaTally, doc, touched, titles[i] ?? null);
    }
  }


  private openSet(): EventIdSet {
    if (this.seenIds === null) throw new Error(`cold day ${this.eventDate}: add() after rows() or finish() (they release the dedup set)`);
    return this.seenIds;
  }

  /** A document's events nearly always carry one area: its last one is checked before the map. */
  private countArea(clinicalArea: string, doc: DocumentTally): AreaTally {
    let area = doc.lastArea;
    if (area === null || area.name !== clinicalArea) {
      let known = this.areas.get(clinicalArea);
      if (known === undefined) this.areas.set(clinicalArea, (known = { name: clinicalArea, index: this.areas.size, clicks: 0, sessions: 0 }));
      doc.lastArea = area = known;
    }
    area.clicks++;
    return area;
  }

  private countDocument(index: number): DocumentTally {
    let doc = this.documents[index];
    if (doc === undefined) {
      doc = { index, clicks: 0, sessions: 0, titleTs: Number.NEGATIVE_INFINITY, titleRef: -1, title: null, lastArea: null };
      this.documents[index] = doc;
    }
    doc.clicks++;
    return doc;
  }

  /** The event's share of the day, its area's and its document's, after its session's click (touched). */
  private countEvent(ts: number, eventRef: number, area: AreaTally, doc: DocumentTally, touched: number, title: string | null): void {
    this.total++;
    const hour = this.hours.localHour(ts);
    this.perHour[hour] = (this.perHour[hour] as number) + 1;
    if (touched & NEW_AREA) area.sessions++;
    if (touched & NEW_DOCUMENT) doc.sessions++;
    // Latest by (event_ts, event_id): batches arrive in offset order, not time order, so the
    // comparison is explicit rather than "last one wins". Ids are decoded only for a tie.
    if (title !== null && (doc.title === null || ts > doc.titleTs || (ts === doc.titleTs && this.laterId(eventRef, doc.titleRef)))) {
      doc.title = title;
      doc.titleTs = ts;
      doc.titleRef = eventRef;
    }
  }

  private laterId(ref: number, than: number): boolean {
    return this.openSet().compareRefs(ref, than) > 0;
  }


  /**
   * The day's rows, sorted like the reference evaluator: by session_id / clinical_area in
   * code-unit order, document_id numerically. A day without events has no rows at all (not a
   * daily_traffic row of zeros), as a recompute from an empty archive would give. Ends the day
   * (see finish()); every session row is in memory at once, so large days go through finish().
   */
  rows(): ColdMartRows {
    const output = this.finish();
    const sessionAnalysis: SessionAnalysisRow[] = [];
    for (const chunk of output.sessionChunks) for (const row of chunk) sessionAnalysis.push(row);
    return { sessionAnalysis, dailyTraffic: output.dailyTraffic, clinicalAreas: output.clinicalAreas, popularDocuments: output.popularDocuments };
  }

  /**
   * The day's rows as rows() orders them, the session rows made chunkRows at a time from the
   * tallies while the consumer writes them: a day's 2M+ session rows as objects were ~320 MB
   * on top of the tallies. Ends the day: the dedup set is freed here, the session tallies by
   * the last chunk, so neither add() nor finish()/rows() may be called again.
   */
  finish(chunkRows = SESSION_CHUNK_ROWS): ColdMartChunks {
    if (this.seenIds === null) throw new Error(`cold day ${this.eventDate}: rows() or finish() called twice (the first call ended the day)`);
    if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
    this.seenIds.release();
    this.seenIds = null;
    const eventDate = this.eventDate;
    if (this.total === 0) {
      this.sessions.release();
      return { sessionCount: 0, sessionChunks: [], dailyTraffic: [], clinicalAreas: [], popularDocuments: [] };
    }

    // On a 25-hour day the repeated local hour counts both of its instances (SPEC: local hour).
    let peakHour = 0;
    for (let hour = 1; hour < HOURS_PER_DAY; hour++) {
      if ((this.perHour[hour] as number) > (this.perHour[peakHour] as number)) peakHour = hour; // ties: earliest
    }
    const dailyTraffic: DailyTrafficRow[] = [
      { eventDate, totalEvents: this.total, uniqueSessions: this.sessions.size, uniqueDocuments: this.documents.length, peakHour },
    ];

    const clinicalAreas: ClinicalAreaRow[] = [...this.areas.keys()].sort(compareCodeUnits).map((clinicalArea) => {
      const a = this.areas.get(clinicalArea) as AreaTally;
      return { eventDate, clinicalArea, searchCount: a.clicks, uniqueSessions: a.sessions };
    });

    const popularDocuments: PopularDocumentRow[] = this.documents
      .map((d) => ({ eventDate, documentId: this.documentNumbers.name(d.index), title: d.title, viewCount: d.clicks, uniqueSessions: d.sessions }))
      .sort((a, b) => compareDecimalIds(a.documentId, b.documentId));

    // Session numbers sorted by id, rather than the ids themselves: a row then reads its
    // tallies by number, without a map lookup per session.
    const ids = this.sessions.takeIds();
    const order = Array.from({ length: ids.length }, (_, n) => n);
    order.sort((a, b) => compareCodeUnits(ids[a] as string, ids[b] as string));
    return {
      sessionCount: ids.length,
      sessionChunks: sessionRows(this.sessions, eventDate, ids, order, chunkRows),
      dailyTraffic,
      clinicalAreas,
      popularDocuments,
    };
  }
}

/** Session rows in `order`, chunkRows at a time; the tallies are released after the last chunk (or when the consumer stops). */
function* sessionRows(
  sessions: SessionTallies,
  eventDate: string,
  ids: readonly string[],
  order: readonly number[],
  chunkRows: number,
): Generator<SessionAnalysisRow[]> {
  try {
    for (let from = 0; from < order.length; from += chunkRows) {
      const to = Math.min(order.length, from + chunkRows);
      const chunk = new Array<SessionAnalysisRow>(to - from);
      for (let k = from; k < to; k++) {
        const n = order[k] as number;
        const firstClickTs = sessions.firstTsOf(n);
        const lastClickTs = sessions.lastTsOf(n);
        chunk[k - from] = {
          sessionId: ids[n] as string,
          eventDate,
          clickCount: sessions.clicksOf(n),
          uniqueDocs: sessions.documentsOf(n),
          firstClickTs,
          lastClickTs,
          sessionDurationSec: Math.floor((lastClickTs - firstClickTs) / 1000),
        };
      }
      yield chunk;
    }
  } finally {
    sessions.release();
  }
}
