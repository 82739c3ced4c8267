// The events the hot recompute needs one by one (about an hour before D, all of D, and D+1's
// events of sessions active in D), as typed-array columns: ~34 B per event instead of a
// ClickEvent object and its strings (~300 B). Strings are numbered (Interner); an event_id is
// kept as its reference into the dedup set, which titles need only to break a tie.
import { MINUTE_MS } from '../../marts/window-math.ts';

const INITIAL_ROWS = 1 << 16;
/** `title` of an event without one. */
export const NO_TITLE = -1;

export class DayRecords {
  ts: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_ROWS);
  session: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  document: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  area: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  title: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_ROWS);
  /** The event_id's reference in its date's EventIdSet, with the date's number above bit 40. */
  idRef: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_ROWS);
  length = 0;

  push(ts: number, session: number, document: number, area: number, title: number, idRef: number): void {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    this.ts[i] = ts;
    this.session[i] = session;
    this.document[i] = document;
    this.area[i] = area;
    this.title[i] = title;
    this.idRef[i] = idRef;
    this.length = i + 1;
  }

  private grow(): void {
    const capacity = this.ts.length * 2;
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
      const m = Math.floor(((this.ts[i] as number) - firstMinute) / MINUTE_MS);
      return m < 0 ? -1 : Math.min(m, minutes);
    };
    return countingSort(this.length, minutes + 1, bucketOf);
  }

  /** Rows grouped by session number (0 … sessions − 1), rows with `keep(session)` false left out. */
  bySession(sessions: number, keep: (session: number) => boolean): { readonly order: Uint32Array; readonly start: Uint32Array } {
    return countingSort(this.length, sessions, (i) => {
      const s = this.session[i] as number;
      return keep(s) ? s : -1;
    });
  }
}

/** Stable counting sort of rows 0 … n − 1 into `buckets` groups; bucket −1 drops the row. */
function countingSort(n: number, buckets: number, bucketOf: (row: number) => number): { order: Uint32Array; start: Uint32Array } {
  const bucket = new Int32Array(n);
  const start = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) {
    const b = bucketOf(i);
    bucket[i] = b;
    if (b >= 0) start[b + 1] = (start[b + 1] as number) + 1;
  }
  for (let b = 0; b < buckets; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
  const next = start.slice(0, buckets);
  const order = new Uint32Array(start[buckets] as number);
  for (let i = 0; i < n; i++) {
    const b = bucket[i] as number;
    if (b < 0) continue;
    order[next[b] as number] = i;
    next[b] = (next[b] as number) + 1;
  }
  return { order, start };
}
