// An exact set of event_id strings for the cold step's dedup, kept in typed arrays instead of a
// Set<string>. A day's dedup set holds every distinct event_id of the day (10M at the benchmark
// scale), and as JavaScript strings in a Set each id costs ~70 B of heap that the garbage
// collector walks again and again; here an id costs its bytes plus one slot of an open-addressing
// table (~20–25 B for the generator's ids, ~25 B for a UUID) and the collector sees a few large
// buffers.
//
// Exactness: event_id is compared as an exact string (the event contract does not normalise it),
// so the encoding below maps each string to exactly one byte record and back:
//   - a canonical lowercase UUID (8-4-4-4-12 hex digits) → tag UUID_TAG + its 16 bytes;
//   - any other string of ASCII characters shorter than UUID_TAG → tag = its length + its bytes
//     (an uppercase or brace-wrapped UUID is such a string, distinct from its lowercase form,
//     exactly as it is for a Set<string>);
//   - everything else (non-ASCII, longer) → a plain Set<string>, which no record ever collides
//     with because those strings are never encoded.
// A record matches only byte-for-byte, after a 32-bit hash pre-check.

/** Records are appended to pages of this size; a page never splits a record, and whole pages avoid a doubling copy. */
const PAGE_BYTES = 1 << 22;
/** Record references (page * PAGE_BYTES + position, plus one) must fit a Uint32Array slot. */
const MAX_PAGES = 2 ** 32 / PAGE_BYTES - 1;
/** First byte of a packed UUID record; ASCII records use their length (0 … UUID_TAG − 1) instead. */
const UUID_TAG = 255;
const UUID_LENGTH = 36;
const UUID_BYTES = 16;
/** Linear probing stays short below this fill; the table doubles past it. */
const MAX_LOAD = 0.7;
const INITIAL_CAPACITY = 1 << 16;
/** References at and above this name a fallback id (packed references stay below MAX_PAGES × PAGE_BYTES). */
const OTHER_REF_BASE = 2 ** 32;

export class EventIdSet {
  /** Buffers, so that decoding a record is one native latin1 slice. */
  private readonly pages: Buffer<ArrayBuffer>[] = [];
  private page: Buffer<ArrayBuffer> = Buffer.alloc(0);
  private pageUsed = 0;
  /**
   * Two words per slot: the record's reference + 1 (0 when empty), and the record's full hash.
   * Side by side, a probe reads one cache line and one memory page where separate arrays of
   * references and hash bytes cost two of each (the table is far larger than the caches and
   * the TLB's reach: 10M UUIDs: 6.4 s → 4.7 s of adds); the full hash also spares growing a re-hash
   * of every record and all but ~1 in 4G byte comparisons of non-matching records.
   */
  private slots: Uint32Array<ArrayBuffer>;
  private mask: number;
  private packed = 0;
  private released = false;
  private readonly others = new Set<string>();
  /** The fallback ids in order of addition, so that a reference can name one. */
  private readonly otherIds: string[] = [];
  /** The record being looked up: tag byte + at most UUID_TAG − 1 bytes. */
  private readonly key = new Uint8Array(1 + UUID_TAG);

  /**
   * `expected`: about how many ids will be added (e.g. from the archive's object names), so that
   * the table is allocated once: growing re-hashes every record, ~3.5 s of a 10M-id day.
   */
  constructor(expected = 0) {
    let capacity = INITIAL_CAPACITY;
    while (capacity * MAX_LOAD < expected && capacity < 2 ** 30) capacity *= 2;
    this.slots = new Uint32Array(2 * capacity);
    this.mask = capacity - 1;
  }

  /** Distinct ids added. */
  get size(): number {
    return this.packed + this.others.size;
  }

  /** Distinct ids held as plain strings (neither ASCII nor short): a measure, and for tests. */
  get fallbackSize(): number {
    return this.others.size;
  }

  /**
   * Frees the set's buffers now rather than at some later garbage collection (transfer(0)
   * detaches them and drops their memory at once): the cold step builds its rows right after
   * the dedup, and without this the set's ~250 MB at 10M ids would still be resident then.
   * The set is unusable afterwards.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const page of this.pages) page.buffer.transfer(0);
    this.pages.length = 0;
    this.page = Buffer.alloc(0);
    this.slots.buffer.transfer(0);
    this.others.clear();
    this.otherIds.length = 0;
  }

  /** Adds id; true when it was not in the set yet. */
  add(id: string): boolean {
    return this.addRef(id) >= 0;
  }

  /**
   * Adds id; −1 when it was in the set already, otherwise a reference that idAt() turns back
   * into the id — as long as the pages are kept (release() frees them, releaseIndex() does not).
   * The hot recompute keeps these references instead of the id strings, to break ties between
   * titles by event_id.
   */
  addRef(id: string): number {
    if (this.released || this.slots.length === 0) throw new Error('EventIdSet: add() after release()');
    const length = this.encodeKey(id);
    if (length < 0) {
      const before = this.others.size;
      this.others.add(id);
      if (this.others.size === before) return -1;
      this.otherIds.push(id);
      return OTHER_REF_BASE + this.otherIds.length - 1;
    }
    const ref = this.probe(length, true, 0);
    return this.inserted ? ref : -1;
  }

  /**
   * addRef() for the id whose UTF-8 bytes are bytes[start … end), without making its string
   * (the archive reader hands over event_id columns as bytes): the same record, so the same
   * answer as addRef(that string).
   */
  addRefUtf8(bytes: Uint8Array, start: number, end: number): number {
    if (this.released || this.slots.length === 0) throw new Error('EventIdSet: add() after release()');
    const length = this.encodeKeyUtf8(bytes, start, end);
    if (length < 0) return this.addRef(utf8Text(bytes, start, end));
    const ref = this.probe(length, true, 0);
    return this.inserted ? ref : -1;
  }

  /** Set by probe(): whether its record was new. */
  protected inserted = false;

  /**
   * Finds the record of the current key (its first `length` bytes), or stores it with `extra`
   * free bytes after it when `insert`; returns its reference, or −1 when absent and not inserted.
   */
  protected probe(length: number, insert: boolean, extra: number): number {
    if (this.released || this.slots.length === 0) throw new Error('EventIdSet: add() after release()');
    const hash = hashBytes(this.key, 0, length);
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const ref = slots[2 * slot] as number;
      if (ref === 0) {
        this.inserted = insert;
        if (!insert) return -1;
        const stored = this.store(length, extra);
        slots[2 * slot] = stored + 1;
        slots[2 * slot + 1] = hash;
        if (++this.packed > MAX_LOAD * (mask + 1)) this.grow();
        return stored;
      }
      if (slots[2 * slot + 1] === hash && this.matches(ref - 1, length)) {
        this.inserted = false;
        return ref - 1;
      }
    }
  }

  /** Writes id's record into the key buffer; its length, or −1 for a fallback id. */
  protected encodeKey(id: string): number {
    return encode(id, this.key);
  }

  /** encodeKey() of the string whose UTF-8 bytes are bytes[start … end). */
  protected encodeKeyUtf8(bytes: Uint8Array, start: number, end: number): number {
    const n = end - start;
    const out = this.key;
    if (n === UUID_LENGTH && packUuidBytes(bytes, start, out)) return 1 + UUID_BYTES;
    if (n >= UUID_TAG) return -1;
    out[0] = n;
    for (let i = 0; i < n; i++) {
      const c = bytes[start + i] as number;
      // A byte above 0x7f starts a multi-byte character: not an ASCII record.
      if (c > 0x7f) return -1;
      out[1 + i] = c;
    }
    return 1 + n;
  }

  /** The page holding reference ref, and ref's position in it. */
  protected locateRef(ref: number): { readonly page: Uint8Array; readonly at: number } {
    return { page: this.pages[Math.floor(ref / PAGE_BYTES)] as Uint8Array, at: ref % PAGE_BYTES };
  }

  /** The id of a reference addRef() returned. */
  idAt(ref: number): string {
    if (this.released) throw new Error('EventIdSet: idAt() after release()');
    if (ref >= OTHER_REF_BASE) return this.otherIds[ref - OTHER_REF_BASE] as string;
    const page = this.pages[Math.floor(ref / PAGE_BYTES)] as Buffer;
    return decode(page, ref % PAGE_BYTES);
  }

  /**
   * Compares the ids of two references as strings compare (code-unit order), from their bytes
   * where both are records of one kind: titles break ties by event_id, and at 10M events a day
   * there are ~100k ties, each of which decoding would turn into two strings.
   */
  compareRefs(a: number, b: number): number {
    if (a < OTHER_REF_BASE && b < OTHER_REF_BASE) {
      const x = this.locateRef(a);
      const y = this.locateRef(b);
      const tagX = x.page[x.at] as number;
      const tagY = y.page[y.at] as number;
      // Both packed UUIDs: hex digits pack in order, so the bytes order like the strings. Both
      // ASCII: the bytes are the code units, and a prefix comes first.
      if ((tagX === UUID_TAG) === (tagY === UUID_TAG)) {
        const lengthX = tagX === UUID_TAG ? UUID_BYTES : tagX;
        const lengthY = tagY === UUID_TAG ? UUID_BYTES : tagY;
        const n = Math.min(lengthX, lengthY);
        for (let i = 1; i <= n; i++) {
          const d = (x.page[x.at + i] as number) - (y.page[y.at + i] as number);
          if (d !== 0) return d;
        }
        return lengthX - lengthY;
      }
    }
    const idA = this.idAt(a);
    const idB = this.idAt(b);
    return idA < idB ? -1 : idA > idB ? 1 : 0;
  }

  /**
   * Frees the lookup table but keeps the ids, for idAt(): once a date has been read, its dedup
   * is done, and the table is about a third of the set. add() throws afterwards.
   */
  releaseIndex(): void {
    this.slots.buffer.transfer(0);
    this.slots = new Uint32Array(0);
    this.others.clear();
  }

  /** Appends the current key record (and `extra` zero bytes) to the pages; returns its reference. */
  private store(length: number, extra: number): number {
    if (this.pageUsed + length + extra > this.page.length) {
      if (this.pages.length >= MAX_PAGES) throw new RangeError('EventIdSet: more than 4 GiB of event ids');
      this.page = Buffer.alloc(PAGE_BYTES);
      this.pages.push(this.page);
      this.pageUsed = 0;
    }
    const ref = (this.pages.length - 1) * PAGE_BYTES + this.pageUsed;
    // A loop, not page.set(key.subarray(…)): a record is ~17 bytes, and the subarray object
    // per id cost more than the copy (2.5 s of a 10M-id day, and young garbage).
    const page = this.page;
    const key = this.key;
    const at = this.pageUsed;
    for (let i = 0; i < length; i++) page[at + i] = key[i] as number;
    this.pageUsed += length + extra;
    return ref;
  }

  private matches(ref: number, length: number): boolean {
    const page = this.pages[Math.floor(ref / PAGE_BYTES)] as Uint8Array;
    const at = ref % PAGE_BYTES;
    const key = this.key;
    // The tag (first byte) encodes the length, so equal tags mean equal lengths.
    for (let i = 0; i < length; i++) if (page[at + i] !== key[i]) return false;
    return true;
  }

  /** Doubles the table, placing each record by its stored hash (the pages do not move). */
  private grow(): void {
    const old = this.slots;
    const capacity = old.length; // slots: old.length / 2, doubled
    const slots = new Uint32Array(2 * capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      const ref = old[i] as number;
      if (ref === 0) continue;
      const hash = old[i + 1] as number;
      let slot = hash & mask;
      while (slots[2 * slot] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = ref;
      slots[2 * slot + 1] = hash;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * Writes id's record into out and returns its length in bytes, or −1 when the id has no record
 * (non-ASCII or too long) and belongs in the fallback set.
 */
function encode(id: string, out: Uint8Array): number {
  const n = id.length;
  if (n === UUID_LENGTH && packUuid(id, out)) return 1 + UUID_BYTES;
  if (n >= UUID_TAG) return -1;
  out[0] = n;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c > 0x7f) return -1;
    out[1 + i] = c;
  }
  return 1 + n;
}

/** Lowercase hex digits as ASCII bytes. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where decode() spells a packed UUID out. */
const UUID_TEXT = Buffer.alloc(UUID_LENGTH);

/** The id of the record at page[at]: the inverse of encode(). */
function decode(page: Buffer, at: number): string {
  const first = page[at] as number;
  // ASCII records: the bytes are the code units, and latin1 maps each byte to one.
  if (first !== UUID_TAG) return page.toString('latin1', at + 1, at + 1 + first);
  let out = 0;
  for (let i = 0; i < UUID_BYTES; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) UUID_TEXT[out++] = 0x2d; // '-'
    const byte = page[at + 1 + i] as number;
    UUID_TEXT[out++] = HEX[byte >> 4] as number;
    UUID_TEXT[out++] = HEX[byte & 15] as number;
  }
  return UUID_TEXT.toString('latin1', 0, UUID_LENGTH);
}

/** Packs a canonical lowercase UUID into out[1 … 16] behind UUID_TAG; false (out garbage) for anything else. */
function packUuid(id: string, out: Uint8Array): boolean {
  out[0] = UUID_TAG;
  let byte = 1;
  for (let i = 0; i < UUID_LENGTH; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 0x2d) return false; // '-'
      i++;
      continue;
    }
    const high = lowerHexDigit(id.charCodeAt(i));
    const low = lowerHexDigit(id.charCodeAt(i + 1));
    if (high < 0 || low < 0) return false;
    out[byte++] = (high << 4) | low;
    i += 2;
  }
  return true;
}

/** Where each of a UUID's 16 bytes starts in its text (two hex digits each, dashes between groups). */
const UUID_PAIRS = Int32Array.from([0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]);
/** Per byte value: its lowercase hex digit's value, −1 for any other byte. */
const HEX_VALUE = Int8Array.from({ length: 256 }, (_, c) => lowerHexDigit(c));

/**
 * packUuid() for a UUID given as 36 UTF-8 (ASCII) bytes from bytes[start]. Table lookups at
 * fixed positions rather than a scan with range tests: this runs once per event of a day.
 */
function packUuidBytes(bytes: Uint8Array, start: number, out: Uint8Array): boolean {
  if (bytes[start + 8] !== 0x2d || bytes[start + 13] !== 0x2d || bytes[start + 18] !== 0x2d || bytes[start + 23] !== 0x2d) return false;
  out[0] = UUID_TAG;
  for (let k = 0; k < UUID_BYTES; k++) {
    const at = start + (UUID_PAIRS[k] as number);
    const high = HEX_VALUE[bytes[at] as number] as number;
    const low = HEX_VALUE[bytes[at + 1] as number] as number;
    if ((high | low) < 0) return false;
    out[1 + k] = (high << 4) | low;
  }
  return true;
}

/** The string of the UTF-8 bytes[start … end), decoded as the Parquet reader decodes text. */
export function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, end);
}

/** 0–15 for '0'–'9' and 'a'–'f'; −1 otherwise (uppercase too: 'A' is another string than 'a'). */
function lowerHexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** FNV-1a over the record bytes[from, from + length), then a murmur3 finaliser so that the low bits (the slot) are well mixed. */
function hashBytes(bytes: Uint8Array, from: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
