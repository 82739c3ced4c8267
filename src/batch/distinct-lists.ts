// Per-owner sets of small integers (the documents, or the areas, one session touched), kept in
// shared Int32Array pages instead of a JavaScript array per owner: a session touches a handful
// of documents, and a JS array for that costs ~80 B of heap (object, backing store and push's
// over-allocation) against 4 B per slot here. Owners are numbered 0, 1, 2, … by the caller.
//
// An owner's list lives in one chunk of 2, 4, 8 or 16 slots; when it is full the list moves to
// a chunk twice as large (the old chunk is abandoned: at most as much again as the live slots).
// Past MAX_LIST members an owner (a bot session clicking thousands of documents) gets a Set.

const PAGE_SLOTS = 1 << 20;
const MAX_LIST = 16;
const INITIAL_OWNERS = 1 << 12;

export class DistinctLists {
  private readonly pageSlots: number;
  private readonly pages: Int32Array<ArrayBuffer>[] = [];
  private pageUsed: number;
  /** Per owner: where its chunk starts (page * PAGE_SLOTS + slot). */
  private start: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_OWNERS);
  /** Per owner: its member count (the chunk's capacity follows from it). */
  private length: Int32Array<ArrayBuffer> = new Int32Array(INITIAL_OWNERS);
  private owners = 0;
  private readonly large = new Map<number, Set<number>>();

  /** pageSlots: only tests pass a smaller page, to cross page boundaries with little data. */
  constructor(pageSlots = PAGE_SLOTS) {
    if (!Number.isInteger(pageSlots) || pageSlots < MAX_LIST) throw new RangeError(`pageSlots must be an integer ≥ ${MAX_LIST}`);
    this.pageSlots = pageSlots;
    this.pageUsed = pageSlots; // no page yet: the first chunk allocates one
  }

  /** Adds the next owner (number this.size before the call) with one member. */
  addOwner(first: number): void {
    const owner = this.owners++;
    if (owner === this.start.length) {
      this.start = grown(this.start);
      this.length = grown(this.length);
    }
    const at = this.allocate(2);
    this.start[owner] = at;
    this.length[owner] = 1;
    this.slot(at, first);
  }

  /** Adds n to the owner's set; true when it was not there yet. */
  add(owner: number, n: number): boolean {
    const length = this.length[owner] as number;
    if (length > MAX_LIST) {
      const set = this.large.get(owner) as Set<number>;
      if (set.has(n)) return false;
      set.add(n);
      this.length[owner] = set.size;
      return true;
    }
    const at = this.start[owner] as number;
    const page = this.pages[Math.floor(at / this.pageSlots)] as Int32Array;
    const first = at % this.pageSlots;
    for (let i = 0; i < length; i++) if (page[first + i] === n) return false;
    if (length === MAX_LIST) {
      const set = new Set<number>(page.subarray(first, first + length));
      set.add(n);
      this.large.set(owner, set);
    } else if (length >= 2 && (length & (length - 1)) === 0) {
      // A full chunk (its capacity is the power of two ≥ max(length, 2)): move to one twice as large.
      const moved = this.allocate(length * 2);
      const target = this.pages[Math.floor(moved / this.pageSlots)] as Int32Array;
      target.set(page.subarray(first, first + length), moved % this.pageSlots);
      this.start[owner] = moved;
      this.slot(moved + length, n);
    } else {
      page[first + length] = n;
    }
    this.length[owner] = length + 1;
    return true;
  }

  /** The owner's member count. */
  sizeOf(owner: number): number {
    return this.length[owner] as number;
  }

  /** Frees the buffers now instead of at a later garbage collection; unusable afterwards. */
  release(): void {
    for (const page of this.pages) page.buffer.transfer(0);
    this.pages.length = 0;
    this.start.buffer.transfer(0);
    this.length.buffer.transfer(0);
    this.large.clear();
  }

  /** Start of a free chunk of `slots` (≤ MAX_LIST) slots; a chunk never straddles pages. */
  private allocate(slots: number): number {
    if (this.pageUsed + slots > this.pageSlots) {
      this.pages.push(new Int32Array(this.pageSlots));
      this.pageUsed = 0;
    }
    const at = (this.pages.length - 1) * this.pageSlots + this.pageUsed;
    this.pageUsed += slots;
    return at;
  }

  private slot(at: number, n: number): void {
    (this.pages[Math.floor(at / this.pageSlots)] as Int32Array)[at % this.pageSlots] = n;
  }
}

/**
 * A copy half as long again: per-owner columns grow by 1.5× (amortised O(1) per owner), which
 * leaves less unused capacity at the end of a day than doubling (≤ a third instead of ≤ half).
 */
export function grown<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(array: T): T {
  const copy = new (array.constructor as new (length: number) => T)(Math.ceil(array.length * 1.5));
  copy.set(array);
  return copy;
}
