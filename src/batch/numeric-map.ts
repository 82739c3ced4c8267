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
  private keys: Float64Array<ArrayBuffer>;
  private values: Float64Array<ArrayBuffer>;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value of key, or `missing` when absent. */
  get(key: number, missing = 0): number {
    const slot = this.find(key);
    return slot < 0 ? missing : (this.values[slot] as number);
  }

  set(key: number, value: number): void {
    checkKey(key);
    const keys = this.keys;
    let slot = hash(key) & this.mask;
    for (;;) {
      const k = keys[slot] as number;
      if (k === key) {
        this.values[slot] = value;
        return;
      }
      if (k === EMPTY) break;
      slot = (slot + 1) & this.mask;
    }
    keys[slot] = key;
    this.values[slot] = value;
    if (++this.count > MAX_LOAD * (this.mask + 1)) this.grow();
  }

  /** Adds delta to key's value (absent = 0); an entry that reaches 0 is removed. Returns the new value. */
  add(key: number, delta: number): number {
    const slot = this.find(key);
    if (slot < 0) {
      if (delta !== 0) this.set(key, delta);
      return delta;
    }
    const value = (this.values[slot] as number) + delta;
    if (value === 0) this.removeSlot(slot);
    else this.values[slot] = value;
    return value;
  }

  /** Calls fn for every entry, in no particular order. */
  forEach(fn: (key: number, value: number) => void): void {
    const keys = this.keys;
    for (let slot = 0; slot < keys.length; slot++) {
      const k = keys[slot] as number;
      if (k !== EMPTY) fn(k, this.values[slot] as number);
    }
  }

  private find(key: number): number {
    const keys = this.keys;
    for (let slot = hash(key) & this.mask; ; slot = (slot + 1) & this.mask) {
      const k = keys[slot] as number;
      if (k === key) return slot;
      if (k === EMPTY) return -1;
    }
  }

  /** Empties slot and moves back any later entry of the probe run that could no longer be found. */
  private removeSlot(slot: number): void {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const k = keys[next] as number;
      if (k === EMPTY) break;
      const home = hash(k) & mask;
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const staysPut = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (staysPut) continue;
      keys[hole] = k;
      values[hole] = values[next] as number;
      hole = next;
    }
    keys[hole] = EMPTY;
    this.count--;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldKeys.length * 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i] as number;
      if (k === EMPTY) continue;
      let slot = hash(k) & this.mask;
      while (this.keys[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[slot] = k;
      this.values[slot] = oldValues[i] as number;
    }
  }
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
