// The events the hot recompute needs one by one (about an hour before D, all of D, and D+1's
// events of sessions active in D), as typed-array columns: 28 B per event instead of a
// ClickEvent object and its strings (~300 B). Strings are numbered; an event_id is kept as its
// reference into the dedup set, which titles need only to break a tie.
import { MINUTE_MS } from '../../marts/window-math.ts';

const INITIAL_ROWS = 1 << 16;
/** Columns grow by this factor: at 10M rows, doubling would leave up to 280 MB unused. */
const GROWTH = 1.25;
/** idRef = set number × ID_SET_FACTOR + reference (EventIdSet references stay below 2^40). */
export const ID_SET_FACTOR = 2 ** 40;
/** `title` of an event without one. */
export const NO_TITLE = -1;

export class DayRecords {
  /** Instants are stored as milliseconds after `base` in 32 bits: ±24 days around it. */
  readonly base: number;
  ts: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  session: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  document: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  area: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  title: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  /** The event_id: its date's number × ID_SET_FACTOR + its reference in that date's EventIdSet. */
  idRef: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_ROWS);
  length = 0;

  constructor(base: number) {
    this.base = base;
  }

  /** Makes room for `rows` rows in all, so that filling them moves no column. */
  reserve(rows: number): void {
    if (rows > this.ts.length) this.resize(rows);
  }

  /**
   * Frees the columns only the minute-by-minute marts read (document, title, event_id), once
   * they are done: the session-by-session marts then run in their memory.
   */
  releaseMinuteColumns(): void {
    for (const column of [this.document, this.title, this.idRef]) column.buffer.transfer(0);
    this.document = new Int32Array(0);
    this.title = new Int32Array(0);
    this.idRef = new Float64Array(0);
  }

  /** The event time of row i, epoch ms. */
  tsAt(i: number): number {
    return this.base + (this.ts[i] as number);
  }

  push(ts: number, session: number, document: number, area: number, title: number, idSet: number, idRef: number): void {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    const offset = ts - this.base;
    if (offset !== (offset | 0)) throw new RangeError(`hot recompute: event time ${ts} too far from ${this.base}`);
    this.ts[i] = offset;
    this.session[i] = session;
    this.document[i] = document;
    this.area[i] = area;
    this.title[i] = title;
    this.idRef[i] = idSet * ID_SET_FACTOR + idRef;
    this.length = i + 1;
  }

  private grow(): void {
    this.resize(Math.ceil(this.ts.length * GROWTH));
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(column: T): T => {
      const bigger = new (column.constructor as new (n: number) => T)(capacity);
      bigger.set(column);
      return bigger;
    };
    this.ts = grow(this.ts);
    this.session = grow(this.session);
    this.document = grow(this.document);
    this.area = grow(this.area);
    this.title = grow(this.title);
    this.idRef = grow(this.idRef);
  }

  /**
   * The rows grouped by UTC minute from `firstMinute` (epoch ms, minute-aligned) on: `order`
   * lists row numbers minute by minute, and the rows of minute m (m = 0, 1, …) are
   * order[start[m] … start[m + 1]). Rows before firstMinute are left out; rows at or after
   * firstMinute + minutes × 1 min go to a last, extra group. A counting sort: linear, no compare.
   */
  byMinute(firstMinute: number, minutes: number): { readonly order: Uint32Array; readonly start: Uint32Array } {
    const bucketOf = (i: number): number => {
      const m = Math.floor((this.tsAt(i) - firstMinute) / MINUTE_MS);
      return m < 0 ? -1 : Math.min(m, minutes);
    };
    return countingSort(this.length, minutes + 1, bucketOf);
  }

  /** Rows grouped by session number (0 … sessions − 1). */
  bySession(sessions: number): SessionGroups {
    return countingSort(this.length, sessions, (i) => this.session[i] as number);
  }
}

/** The rows of session s are order[start[s] … start[s + 1]). */
export interface SessionGroups {
  readonly order: Uint32Array;
  readonly start: Uint32Array;
}

/**
 * Stable counting sort of rows 0 … n − 1 into `buckets` groups; bucket −1 drops the row.
 * bucketOf is called twice per row rather than its results kept: 4 B per row less at the peak.
 */
function countingSort(n: number, buckets: number, bucketOf: (row: number) => number): { order: Uint32Array; start: Uint32Array } {
  const start = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) {
    const b = bucketOf(i);
    if (b >= 0) start[b + 1] = (start[b + 1] as number) + 1;
  }
  for (let b = 0; b < buckets; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
  const next = start.slice(0, buckets);
  const order = new Uint32Array(start[buckets] as number);
  for (let i = 0; i < n; i++) {
    const b = bucketOf(i);
    if (b < 0) continue;
    order[next[b] as number] = i;
    next[b] = (next[b] as number) + 1;
  }
  return { order, start };
}
