// A hash map from non-negative integer keys (below 2^53) to numbers, in typed arrays: the hot
// recompute keeps one entry per (document, session) or (area, session) pair in a sliding window,
// millions of them at a time, and a Map<number, number> costs ~4× the memory and walks the
// garbage collector through every entry. Open addressing with linear probing; delete shifts the
// following entries back (no tombstones), so a window that slides over a day stays as small as
// its live pairs rather than growing with every pair it ever held.

const EMPTY = -1;
const MAX_LOAD = 0.6;
const MIN_CAPACITY = 1 << 10;

export class NumericMap {
  /**
   * Slot i holds its key at 2i and its value at 2i + 1: a probe reads one cache line rather
   * than one in each of two arrays, which halves the misses on a table of many megabytes.
   */
  private slots: Float64Array<ArrayBuffer>;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.slots = emptySlots(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value of key, or `missing` when absent. */
  get(key: number, missing = 0): number {
    const slot = this.slotOf(key);
    const slots = this.slots;
    return slots[2 * slot] === key ? (slots[2 * slot + 1] as number) : missing;
  }

  set(key: number, value: number): void {
    checkKey(key);
    const slot = this.slotOf(key);
    const slots = this.slots;
    slots[2 * slot + 1] = value;
    if (slots[2 * slot] === key) return;
    slots[2 * slot] = key;
    if (++this.count > MAX_LOAD * (this.mask + 1)) this.grow();
  }

  /** Adds delta to key's value (absent = 0); an entry that reaches 0 is removed. Returns the new value. */
  add(key: number, delta: number): number {
    const slot = this.slotOf(key);
    const slots = this.slots;
    if (slots[2 * slot] !== key) {
      if (delta !== 0) this.set(key, delta);
      return delta;
    }
    const value = (slots[2 * slot + 1] as number) + delta;
    if (value === 0) this.removeSlot(slot);
    else slots[2 * slot + 1] = value;
    return value;
  }

  /** Calls fn for every entry, in no particular order. */
  forEach(fn: (key: number, value: number) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) {
      const k = slots[i] as number;
      if (k !== EMPTY) fn(k, slots[i + 1] as number);
    }
  }

  /** The slot holding key, or the empty slot where it would go. */
  private slotOf(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const k = slots[2 * slot] as number;
      if (k === key || k === EMPTY) return slot;
    }
  }

  /** Empties slot and moves back any later entry of the probe run that could no longer be found. */
  private removeSlot(slot: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const k = slots[2 * next] as number;
      if (k === EMPTY) break;
      const home = hash(k) & mask;
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (staysPut) continue;
      slots[2 * hole] = k;
      slots[2 * hole + 1] = slots[2 * next + 1] as number;
      hole = next;
    }
    slots[2 * hole] = EMPTY;
    this.count--;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    this.slots = emptySlots(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      const k = old[i] as number;
      if (k === EMPTY) continue;
      const slot = this.slotOf(k);
      this.slots[2 * slot] = k;
      this.slots[2 * slot + 1] = old[i + 1] as number;
    }
  }
}

function emptySlots(capacity: number): Float64Array<ArrayBuffer> {
  const slots = new Float64Array(2 * capacity);
  for (let i = 0; i < slots.length; i += 2) slots[i] = EMPTY;
  return slots;
}

function checkKey(key: number): void {
  if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`NumericMap keys are integers in [0, 2^53), got ${key}`);
}

/** Mixes both 32-bit halves of the key (murmur3's finaliser), so that the low bits spread. */
function hash(key: number): number {
  const low = key >>> 0;
  const high = Math.floor(key / 4294967296);
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
