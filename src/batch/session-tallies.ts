// One tally per session of the day — clicks, first and last click, the documents and areas it
// touched — as columns of typed arrays indexed by a session number, instead of one object per
// session. At 10M events a day has ~2.2M sessions; an object each (boxed timestamps, a JS array
// per list) cost ~250 B of heap, the columns ~60 B, most of it the session_id string itself
// (which the rows need anyway) and its entry in the id numbering.
import { DistinctLists, grown } from './distinct-lists.ts';
import { StringNumbering } from './string-numbering.ts';

/** Bits of click()'s result. */
export const NEW_DOCUMENT = 1;
export const NEW_AREA = 2;

const INITIAL_SESSIONS = 1 << 12;
const MASK_BITS = 32;

export class SessionTallies {
  private readonly numbers = new StringNumbering();
  private clicks: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_SESSIONS);
  /**
   * First and last click as milliseconds after `base`: a day's instants are integers less than
   * 2^31 ms (24.8 days) apart, so 4 B each instead of a float64's 8 (~25 MB less at 2M sessions,
   * and as much again while a column grows). click() refuses an instant that does not fit.
   */
  private readonly base: number;
  private firstTs: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_SESSIONS);
  private lastTs: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_SESSIONS);
  private readonly documents = new DistinctLists();
  /**
   * Per session: the areas it touched as bits of their numbers (a day has a dozen areas, so a
   * word per session instead of a list); areas numbered MASK_BITS and up go to a Set per session.
   */
  private areaMasks: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_SESSIONS);
  private readonly wideAreas = new Map<number, Set<number>>();

  /** base: an instant near the clicks', e.g. the start of their day (integer milliseconds). */
  constructor(base = 0) {
    if (!Number.isSafeInteger(base)) throw new RangeError(`base must be an integer instant, got ${base}`);
    this.base = base;
  }

  get size(): number {
    return this.numbers.size;
  }

  /**
   * Counts one click of the session on a document (by its number) in an area (by its number);
   * returns NEW_DOCUMENT / NEW_AREA for what the session had not touched before (both for a new
   * session), which is how documents and areas count their distinct sessions.
   */
  click(sessionId: string, ts: number, document: number, area: number): number {
    const sessions = this.numbers.size;
    return this.clickNumbered(this.numbers.intern(sessionId), sessions, ts, document, area);
  }

  /** click() for the session whose id's UTF-8 bytes are bytes[start … end). */
  clickUtf8(bytes: Uint8Array, start: number, end: number, ts: number, document: number, area: number): number {
    const sessions = this.numbers.size;
    return this.clickNumbered(this.numbers.internUtf8(bytes, start, end), sessions, ts, document, area);
  }

  /** A click of session number n; n === sessionsBefore when the session is new. */
  private clickNumbered(n: number, sessionsBefore: number, ts: number, document: number, area: number): number {
    const at = ts - this.base;
    if ((at | 0) !== at) throw new RangeError(`click at ${ts}: not an integer instant within 2^31 ms of ${this.base}`);
    if (n === sessionsBefore) {
      const next = n;
      if (next === this.clicks.length) {
        this.clicks = grown(this.clicks);
        this.firstTs = grown(this.firstTs);
        this.lastTs = grown(this.lastTs);
        this.areaMasks = grown(this.areaMasks);
      }
      this.clicks[next] = 1;
      this.firstTs[next] = at;
      this.lastTs[next] = at;
      this.documents.addOwner(document);
      this.areaMasks[next] = 0;
      this.addArea(next, area);
      return NEW_DOCUMENT | NEW_AREA;
    }
    this.clicks[n] = (this.clicks[n] as number) + 1;
    if (at < (this.firstTs[n] as number)) this.firstTs[n] = at;
    if (at > (this.lastTs[n] as number)) this.lastTs[n] = at;
    return (this.documents.add(n, document) ? NEW_DOCUMENT : 0) | (this.addArea(n, area) ? NEW_AREA : 0);
  }

  /** Adds the area to the session's; true when it was not there yet. */
  private addArea(n: number, area: number): boolean {
    if (area < MASK_BITS) {
      const mask = this.areaMasks[n] as number;
      const bit = 1 << area;
      if ((mask & bit) !== 0) return false;
      this.areaMasks[n] = mask | bit;
      return true;
    }
    let wide = this.wideAreas.get(n);
    if (wide === undefined) this.wideAreas.set(n, (wide = new Set()));
    const before = wide.size;
    wide.add(area);
    return wide.size !== before;
  }

  /**
   * Frees the tallies now instead of at a later garbage collection (typed arrays detached, the
   * id map emptied): the cold step then writes its rows with only the rows in memory, and a
   * smaller live heap keeps V8's next collection (and so the peak RSS) lower. Unusable afterwards.
   */
  release(): void {
    this.numbers.release();
    for (const column of [this.clicks, this.firstTs, this.lastTs, this.areaMasks]) column.buffer.transfer(0);
    this.documents.release();
    this.wideAreas.clear();
  }

  /** The session ids, in first-seen order. */
  ids(): IterableIterator<string> {
    return this.numbers.names().values();
  }

  /**
   * The session ids by number (index n holds session n's id) for reading the tallies with the
   * *Of(n) accessors, and the id numbering emptied (its table freed before the rows are
   * written). Ends click() and tally().
   */
  takeIds(): string[] {
    return this.numbers.take();
  }

  /** Clicks of session number n. */
  clicksOf(n: number): number {
    return this.clicks[n] as number;
  }

  /** Distinct documents of session number n. */
  documentsOf(n: number): number {
    return this.documents.sizeOf(n);
  }

  firstTsOf(n: number): number {
    return this.base + (this.firstTs[n] as number);
  }

  lastTsOf(n: number): number {
    return this.base + (this.lastTs[n] as number);
  }

  /** The tallies of a session that has had a click. */
  tally(sessionId: string): { clicks: number; documents: number; firstTs: number; lastTs: number } {
    const n = this.numbers.lookup(sessionId);
    if (n < 0) throw new Error(`no clicks of session ${sessionId}`);
    return { clicks: this.clicks[n] as number, documents: this.documents.sizeOf(n), firstTs: this.firstTsOf(n), lastTs: this.lastTsOf(n) };
  }
}
