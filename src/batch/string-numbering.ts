// Numbers distinct strings 0, 1, 2, … in order of first sight, stored like EventIdSet's ids (a
// few bytes per string in pages, a 5-byte table slot) instead of a Map<string, number>: the cold
// step and the hot recompute number every session of a day, 2.2M at the benchmark scale, and a
// Map entry with its string costs ~90 B of heap against ~30 B here. A record carries its number in the 4 bytes
// after the id; strings that have no record (see EventIdSet) use a Map.
import { EventIdSet, utf8Text } from './event-id-set.ts';

const NUMBER_BYTES = 4;
const INITIAL_NUMBERS = 1 << 12;

export class StringNumbering extends EventIdSet {
  /** Per number: its record's reference, or −1 − (index in fallbackNames). */
  private refOf: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_NUMBERS);
  private count = 0;
  private readonly fallbackNumbers = new Map<string, number>();
  private readonly fallbackNames: string[] = [];

  override get size(): number {
    return this.count;
  }

  /** The number of value, numbering it when new. */
  intern(value: string): number {
    return this.numberOf(value, true);
  }

  /** The number of value, or −1 when it was never numbered. */
  lookup(value: string): number {
    return this.numberOf(value, false);
  }

  /** intern() of the string whose UTF-8 bytes are bytes[start … end), without making it. */
  internUtf8(bytes: Uint8Array, start: number, end: number): number {
    const length = this.encodeKeyUtf8(bytes, start, end);
    return length < 0 ? this.intern(utf8Text(bytes, start, end)) : this.numberOfKey(length, true);
  }

  /** lookup() of the string whose UTF-8 bytes are bytes[start … end). */
  lookupUtf8(bytes: Uint8Array, start: number, end: number): number {
    const length = this.encodeKeyUtf8(bytes, start, end);
    return length < 0 ? this.lookup(utf8Text(bytes, start, end)) : this.numberOfKey(length, false);
  }

  /** The string numbered n. */
  name(n: number): string {
    if (!(n >= 0 && n < this.count)) throw new RangeError(`no string numbered ${n}`);
    const ref = this.refOf[n] as number;
    return ref < 0 ? (this.fallbackNames[-1 - ref] as string) : this.idAt(ref);
  }

  /** Every string by its number (index n holds string n). */
  names(): string[] {
    return Array.from({ length: this.count }, (_, n) => this.name(n));
  }

  /** names(), and the numbering's memory freed at once; unusable afterwards. */
  take(): string[] {
    const names = this.names();
    this.release();
    return names;
  }

  /** Frees the numbering's memory at once; unusable afterwards (size 0). */
  override release(): void {
    super.release();
    this.fallbackNumbers.clear();
    this.fallbackNames.length = 0;
    this.refOf = new Float64Array(0);
    this.count = 0;
  }

  private numberOf(value: string, insert: boolean): number {
    const length = this.encodeKey(value);
    if (length < 0) {
      const known = this.fallbackNumbers.get(value);
      if (known !== undefined || !insert) return known ?? -1;
      this.fallbackNames.push(value);
      this.fallbackNumbers.set(value, this.count);
      return this.next(-this.fallbackNames.length);
    }
    return this.numberOfKey(length, insert);
  }

  /** The number of the record in the key buffer (its first `length` bytes). */
  private numberOfKey(length: number, insert: boolean): number {
    const ref = this.probe(length, insert, NUMBER_BYTES);
    if (ref < 0) return -1;
    const { page, at } = this.locateRef(ref + length);
    if (!this.inserted) return (page[at] as number) | ((page[at + 1] as number) << 8) | ((page[at + 2] as number) << 16) | ((page[at + 3] as number) * 2 ** 24);
    const n = this.next(ref);
    page[at] = n & 0xff;
    page[at + 1] = (n >>> 8) & 0xff;
    page[at + 2] = (n >>> 16) & 0xff;
    page[at + 3] = n >>> 24;
    return n;
  }

  private next(ref: number): number {
    const n = this.count++;
    if (n === this.refOf.length) {
      const grown = new Float64Array(2 * n);
      grown.set(this.refOf);
      this.refOf = grown;
    }
    this.refOf[n] = ref;
    return n;
  }
}
