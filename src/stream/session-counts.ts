// Session → events of one window cell, as an open-addressing table (linear probing) over a plain
// array of ids and an Int32Array of counts. The clinical trend's 24 h window holds millions of
// (area, session) entries: a Map costs ~52 bytes an entry (measured with 3.4M entries over 12
// maps), this table 12 bytes a slot, about 24 an entry at its usual load. Deletion shifts the
// rest of the probe run back, so there are no tombstones and lookups stay short.

const MIN_SLOTS = 8;

/** FNV-1a over the UTF-16 code units. */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SessionCounts {
  private ids: (string | undefined)[];
  private counts: Int32Array;
  private mask: number;
  private used = 0;

  constructor(slots = MIN_SLOTS) {
    this.ids = new Array<string | undefined>(slots).fill(undefined);
    this.counts = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Sessions with events. */
  get size(): number {
    return this.used;
  }

  /** Events of a session (0 when it has none). */
  get(id: string): number {
    const ids = this.ids;
    for (let i = hashOf(id) & this.mask; ; i = (i + 1) & this.mask) {
      const k = ids[i];
      if (k === undefined) return 0;
      if (k === id) return this.counts[i]!;
    }
  }

  /** Adds n > 0 events of a session. */
  add(id: string, n: number): void {
    const ids = this.ids;
    for (let i = hashOf(id) & this.mask; ; i = (i + 1) & this.mask) {
      const k = ids[i];
      if (k === id) {
        this.counts[i]! += n;
        return;
      }
      if (k === undefined) {
        ids[i] = id;
        this.counts[i] = n;
        // At most 70 % full: linear probing's runs grow quickly beyond that.
        if (++this.used * 10 > ids.length * 7) this.resize(ids.length * 2);
        return;
      }
    }
  }

  /** Removes n events of a session; the session goes when none are left. */
  remove(id: string, n: number): void {
    const ids = this.ids;
    let i = hashOf(id) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const k = ids[i];
      if (k === undefined) return;
      if (k === id) break;
    }
    const left = this.counts[i]! - n;
    if (left > 0) {
      this.counts[i] = left;
      return;
    }
    this.deleteAt(i);
    if (ids.length > MIN_SLOTS && this.used * 8 < ids.length) this.resize(ids.length / 2);
  }

  /** Empties slot i and moves back every later entry of its probe run that may live before it. */
  private deleteAt(slot: number): void {
    const ids = this.ids;
    const counts = this.counts;
    const mask = this.mask;
    let hole = slot;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const k = ids[j];
      if (k === undefined) break;
      const home = hashOf(k) & mask;
      // k may move into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      ids[hole] = k;
      counts[hole] = counts[j]!;
      hole = j;
    }
    ids[hole] = undefined;
    counts[hole] = 0;
    this.used--;
  }

  private resize(slots: number): void {
    const oldIds = this.ids;
    const oldCounts = this.counts;
    this.ids = new Array<string | undefined>(slots).fill(undefined);
    this.counts = new Int32Array(slots);
    this.mask = slots - 1;
    for (let s = 0; s < oldIds.length; s++) {
      const k = oldIds[s];
      if (k === undefined) continue;
      let i = hashOf(k) & this.mask;
      while (this.ids[i] !== undefined) i = (i + 1) & this.mask;
      this.ids[i] = k;
      this.counts[i] = oldCounts[s]!;
    }
  }
}
