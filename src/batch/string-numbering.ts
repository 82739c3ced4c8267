// Numbers distinct strings 0, 1, 2, … in first-seen order: the session_id → session number map
// of the cold step. A Map<string, number> does this, but at a day's 2M+ sessions V8's ordered
// hash table takes ~50 B per entry at its best and twice that just after it doubles (old and new
// table both live), ~120 MB at 2.2M sessions. Here: the strings in an array (which the rows
// need anyway), a 32-bit hash per number, and an open-addressing table of numbers; ~20 B per
// string besides the string itself. Equality is exact string equality; the hash only narrows
// the candidates.

const INITIAL_SLOTS = 1 << 14;
/** Linear probing stays short below this fill; the table doubles past it. */
const MAX_LOAD = 0.6;

export class StringNumbering {
  private ids: string[] = [];
  /** Per number: its string's hash (the table grows without hashing the strings again). */
  private hashes = new Int32Array(INITIAL_SLOTS);
  /** Per slot: number + 1, 0 when empty. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;

  get size(): number {
    return this.ids.length;
  }

  /** The string's number when it was there already; else adds it and returns −1 − its new number. */
  numberOrAdd(id: string): number {
    const hash = hashString(id);
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot] as number;
      if (entry === 0) {
        const n = this.ids.length;
        this.ids.push(id);
        if (n === this.hashes.length) {
          const hashes = new Int32Array(Math.ceil(n * 1.5));
          hashes.set(this.hashes);
          this.hashes = hashes;
        }
        this.hashes[n] = hash;
        slots[slot] = n + 1;
        if (n + 1 > MAX_LOAD * (mask + 1)) this.grow();
        return -1 - n;
      }
      if (this.hashes[entry - 1] === hash && this.ids[entry - 1] === id) return entry - 1;
    }
  }

  /** The number of id, or −1 when it has none. */
  numberOf(id: string): number {
    const hash = hashString(id);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      if (this.hashes[entry - 1] === hash && this.ids[entry - 1] === id) return entry - 1;
    }
  }

  /** The strings by number, in first-seen order. */
  keys(): readonly string[] {
    return this.ids;
  }

  /** The strings by number; the numbering is emptied (its table freed) and starts again from 0. */
  take(): string[] {
    const ids = this.ids;
    this.ids = [];
    this.hashes = new Int32Array(INITIAL_SLOTS);
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.mask = INITIAL_SLOTS - 1;
    return ids;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    const hashes = this.hashes;
    for (let n = 0; n < this.ids.length; n++) {
      let slot = (hashes[n] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = n + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** FNV-1a over the UTF-16 code units, then a murmur3 finaliser so that the low bits (the slot) are well mixed. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
