// Numbers distinct document_ids 0, 1, 2, … in order of first sight. A document_id is a
// non-negative integer up to 2^63 − 1 (canonical decimal text in ClickEvent); those up to
// 2^53 − 1, all of them in practice, are keyed by their number (NumericMap), which spares the
// archive reader a decimal string per event and the batch cores a string hash per event. Larger
// ones are keyed by their text. A document reaches the same number by either road.
import { compareDecimalIds } from '../marts/window-math.ts';
import { NumericMap } from './numeric-map.ts';

export class DocumentNumbering {
  private readonly byValue = new NumericMap();
  private readonly byText = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** The number of a document_id given as a safe integer (≤ 2^53 − 1, ≥ 0). */
  ofValue(value: number): number {
    const known = this.byValue.get(value, -1);
    if (known >= 0) return known;
    const n = this.names.length;
    this.names.push(String(value));
    this.byValue.set(value, n);
    return n;
  }

  /** The number of a document_id given as canonical decimal text. */
  ofText(id: string): number {
    const value = Number(id);
    // Exact below 2^53; at or above it the double is 2^53 or more, never a safe integer.
    if (Number.isSafeInteger(value)) return this.ofValue(value);
    let n = this.byText.get(id);
    if (n === undefined) {
      n = this.names.length;
      this.names.push(id);
      this.byText.set(id, n);
    }
    return n;
  }

  /** The canonical decimal text of document number n. */
  name(n: number): string {
    const id = this.names[n];
    if (id === undefined) throw new RangeError(`no document numbered ${n}`);
    return id;
  }

  /** Ranks of the document numbers in BIGINT order of their ids. */
  ranks(): Int32Array {
    const order = this.names.map((_, n) => n).sort((a, b) => compareDecimalIds(this.names[a] as string, this.names[b] as string));
    const rank = new Int32Array(this.names.length);
    order.forEach((n, r) => (rank[n] = r));
    return rank;
  }
}
