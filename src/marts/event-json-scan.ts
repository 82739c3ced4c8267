// A fast path for the common shape of a curated event: one flat JSON object whose keys are the
// contract's six fields and whose values are plain strings (no escapes), null or small
// integers. It reads those values straight out of the text, without JSON.parse's generic object.
// Anything else — an escape, an unknown or repeated key, a fraction, a nested value, a stray
// byte — returns null, and the caller parses with JSON.parse as before, so that every message
// the scan accepts gets exactly the record JSON.parse would have given.

const EVENT_KEYS = ['event_id', 'event_ts', 'session_id', 'document_id', 'title', 'clinical_area'] as const;
type EventKey = (typeof EVENT_KEYS)[number];

/** The six fields as read; undefined = the key is absent. */
export type ScannedEvent = Readonly<Record<EventKey, string | number | null | undefined>>;

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const LOWER_N = 110;
/** Integers of up to 15 digits are exact as doubles; longer ones are left to JSON.parse. */
const MAX_FAST_DIGITS = 15;

function isJsonSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The key whose quoted name starts at i (just after the opening quote), or undefined. */
function keyAt(text: string, i: number): EventKey | undefined {
  for (const key of EVENT_KEYS) {
    if (text.startsWith(key, i) && text.charCodeAt(i + key.length) === QUOTE) return key;
  }
  return undefined;
}

/**
 * One record, reused by every call: the hot path reads it at once and keeps none of it. All six
 * keys exist (undefined = absent), so that the object keeps one shape.
 */
const scratch: Record<EventKey, string | number | null | undefined> = {
  event_id: undefined,
  event_ts: undefined,
  session_id: undefined,
  document_id: undefined,
  title: undefined,
  clinical_area: undefined,
};

/**
 * Scans the text; null when it is not in the simple shape (the caller then uses JSON.parse).
 * The record returned is overwritten by the next call: read it before scanning again.
 */
export function scanEventObject(text: string): ScannedEvent | null {
  const n = text.length;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return null;
  i = skipSpace(text, i + 1);
  const record = scratch;
  record.event_id = record.event_ts = record.session_id = record.document_id = record.title = record.clinical_area = undefined;
  if (text.charCodeAt(i) === CLOSE_BRACE) return skipSpace(text, i + 1) === n ? record : null;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return null;
    const key = keyAt(text, i + 1);
    if (key === undefined || record[key] !== undefined) return null;
    i = skipSpace(text, i + key.length + 2);
    if (text.charCodeAt(i) !== COLON) return null;
    i = skipSpace(text, i + 1);
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let j = start;
      for (; j < n; j++) {
        const code = text.charCodeAt(j);
        if (code === QUOTE) break;
        if (code === BACKSLASH || code < 0x20) return null;
      }
      if (j >= n) return null;
      record[key] = text.slice(start, j);
      i = j + 1;
    } else if (c === LOWER_N) {
      if (!text.startsWith('null', i)) return null;
      record[key] = null;
      i += 4;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = i;
      if (c === MINUS) i++;
      const digitsFrom = i;
      while (i < n && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++;
      const digits = i - digitsFrom;
      // JSON forbids leading zeros; a fraction or exponent follows JSON.parse's rules, not ours.
      if (digits === 0 || digits > MAX_FAST_DIGITS || (digits > 1 && text.charCodeAt(digitsFrom) === ZERO)) return null;
      const next = text.charCodeAt(i);
      if (next === 46 || next === 101 || next === 69) return null;
      record[key] = Number(text.slice(start, i));
    } else {
      return null;
    }
    i = skipSpace(text, i);
    const separator = text.charCodeAt(i);
    if (separator === COMMA) {
      i = skipSpace(text, i + 1);
      continue;
    }
    if (separator === CLOSE_BRACE) return skipSpace(text, i + 1) === n ? record : null;
    return null;
  }
}
