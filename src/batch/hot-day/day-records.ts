// The events the hot recompute needs one by one (about an hour before D, all of D, and D+1's
// events of sessions active in D), as typed-array columns: 19 B per event instead of a
// ClickEvent object and its strings (~300 B). Strings are numbered; an event_id is kept as its
// reference into the dedup set, which titles need only to break a tie.
import { MINUTE_MS } from '../../marts/window-math.ts';

const INITIAL_ROWS = 1 << 16;
/** Columns grow by this factor: at 10M rows, doubling would leave up to 280 MB unused. */
const GROWTH = 1.25;
const TWO_32 = 2 ** 32;
/**
 * An event_id is kept as (set number, reference): the low 32 bits of the reference in one
 * column, and set × 2 + its 33rd bit in a byte (EventIdSet references stay below 2^33: packed
 * records below 2^32, fallback ids counted from 2^32). 5 B per row instead of a double's 8:
 * 30 MB less at 10M events.
 */
const MAX_ID_SET = 127;
const MAX_ID_REF = 2 * TWO_32 - 1;
/** `title` of an event without one. */
export const NO_TITLE = -1;

export class DayRecords {
  /** Instants are stored as milliseconds after `base` in 32 bits: ±24 days around it. */
  readonly base: number;
  ts: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  session: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  // Documents, areas and titles number in the thousands on a typical day: 2 B each per row.
  readonly document = new SmallIntColumn(INITIAL_ROWS);
  readonly area = new SmallIntColumn(INITIAL_ROWS);
  readonly title = new SmallIntColumn(INITIAL_ROWS);
  /** The event_id: its date's dedup set and its reference there (see MAX_ID_SET). */
  private idLow: Uint32Array<ArrayBuffer> = new Uint32Array(INITIAL_ROWS);
  private idHigh: Uint8Array<ArrayBuffer> = new Uint8Array(INITIAL_ROWS);
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
    this.document.release();
    this.title.release();
    this.idLow.buffer.transfer(0);
    this.idHigh.buffer.transfer(0);
    this.idLow = new Uint32Array(0);
    this.idHigh = new Uint8Array(0);
  }

  /** The number of the dedup set holding row i's event_id. */
  idSetAt(i: number): number {
    return (this.idHigh[i] as number) >> 1;
  }

  /** Row i's event_id: its reference in that set. */
  idRefAt(i: number): number {
    return ((this.idHigh[i] as number) & 1) * TWO_32 + (this.idLow[i] as number);
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
    this.document.set(i, document);
    this.area.set(i, area);
    this.title.set(i, title);
    if (idSet > MAX_ID_SET || idRef > MAX_ID_REF) throw new RangeError(`hot recompute: event_id reference ${idSet}/${idRef} out of range`);
    const high = idRef >= TWO_32 ? 1 : 0;
    this.idLow[i] = idRef - high * TWO_32;
    this.idHigh[i] = idSet * 2 + high;
    this.length = i + 1;
  }

  private grow(): void {
    this.resize(Math.ceil(this.ts.length * GROWTH));
  }

  private resize(capacity: number): void {
    const grow = <T extends Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(column: T): T => {
      const bigger = new (column.constructor as new (n: number) => T)(capacity);
      bigger.set(column);
      return bigger;
    };
    this.ts = grow(this.ts);
    this.session = grow(this.session);
    this.document.resize(capacity);
    this.area.resize(capacity);
    this.title.resize(capacity);
    this.idLow = grow(this.idLow);
    this.idHigh = grow(this.idHigh);
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

/**
 * A column of integers ≥ −1 stored as value + 1 in 16 bits, widened to 32 bits (once, for all
 * rows) when a value of 65535 or more arrives.
 */
export class SmallIntColumn {
  private values: Uint16Array<ArrayBuffer> | Int32Array<ArrayBuffer>;

  constructor(capacity: number) {
    this.values = new Uint16Array(capacity);
  }

  get(i: number): number {
    return (this.values[i] as number) - 1;
  }

  set(i: number, value: number): void {
    if (value >= 0xffff && this.values instanceof Uint16Array) this.values = Int32Array.from(this.values);
    this.values[i] = value + 1;
  }

  resize(capacity: number): void {
    const bigger = this.values instanceof Uint16Array ? new Uint16Array(capacity) : new Int32Array(capacity);
    bigger.set(this.values.subarray(0, Math.min(capacity, this.values.length)));
    this.values = bigger;
  }

  release(): void {
    this.values.buffer.transfer(0);
    this.values = new Uint16Array(0);
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
