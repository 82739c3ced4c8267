// The curated-event contract (SPEC §2): turns one raw message into a ClickEvent or a
// dead-letter reason. It runs once per event on the hot path, so the success path allocates
// only the event and its outcome, scans characters by hand instead of using regular
// expressions, and uses exceptions only where the platform forces them (JSON.parse and the
// fatal UTF-8 decoder). Error paths may be slow: they build readable details.
import { scanEventObject } from './event-json-scan.ts';
import type { ClickEvent, DeadLetterReason, ParseOutcome, RawMessage } from './types.ts';
import { OversizedMessage, UNKNOWN_CLINICAL_AREA, UnreadableInput } from './types.ts';

/** Largest accepted message, in bytes of UTF-8 (64 KiB). */
export const MAX_MESSAGE_BYTES = 65_536;
/** Limits in Unicode code points, so that an emoji counts as one character as a reader expects. */
export const MAX_ID_LENGTH = 128;
export const MAX_TITLE_LENGTH = 1000;
export const MAX_CLINICAL_AREA_LENGTH = 200;
/** 9999-12-31T23:59:59.999Z: the last instant with a four-digit year. */
export const MAX_EVENT_TS_MS = 253_402_300_799_999;
/** BIGINT's upper bound; compared as a string so that no precision is ever lost. */
export const MAX_DOCUMENT_ID = '9223372036854775807';

export interface ParseOptions {
  /** The processor's wall clock, epoch milliseconds. */
  readonly nowMs: number;
  /** Events further than this ahead of nowMs are dead-lettered (future_timestamp). */
  readonly maxFutureSkewMs: number;
}

// Created once: constructing a decoder per message would dominate the cost of small messages.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const MAX_DOCUMENT_ID_BIGINT = 9_223_372_036_854_775_807n;
const MAX_EVENT_TS_BIGINT = BigInt(MAX_EVENT_TS_MS);
const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const CH_0 = 48;
const CH_DOT = 46;
const CH_DASH = 45;
const CH_PLUS = 43;
const CH_COLON = 58;
const CH_SPACE = 32;
const CH_T = 84;
const CH_Z = 90;

function fail(reason: DeadLetterReason, detail: string): ParseOutcome {
  return { ok: false, reason, detail };
}

/**
 * Parses one message value: JSON text or bytes (Kafka, files) or an already-decoded record
 * (Parquet). Never throws.
 */
export function parseRawMessage(value: RawMessage['value'], opts: ParseOptions): ParseOutcome {
  // `== null` also covers undefined, which a loosely typed source might hand over.
  if (value == null) return fail('invalid_json', 'empty message');

  let text: string;
  if (typeof value === 'string') {
    if (value.length === 0) return fail('invalid_json', 'empty message');
    // A UTF-16 unit never needs more than 3 UTF-8 bytes, so short strings skip the count.
    if (value.length > MAX_MESSAGE_BYTES / 3) {
      const bytes = utf8ByteLength(value);
      if (bytes > MAX_MESSAGE_BYTES) return tooLarge(bytes);
    }
    text = value;
  } else if (value instanceof Uint8Array) {
    if (value instanceof OversizedMessage) return tooLarge(value.originalBytes);
    if (value instanceof UnreadableInput) return fail(value.reason, value.detail);
    if (value.length === 0) return fail('invalid_json', 'empty message');
    if (value.length > MAX_MESSAGE_BYTES) return tooLarge(value.length);
    try {
      text = utf8Decoder.decode(value);
    } catch {
      return fail('invalid_encoding', 'message is not valid UTF-8');
    }
  } else {
    // Records come from a typed reader, but an array would otherwise pass as an object.
    if (Array.isArray(value)) return fail('not_an_object', 'expected an object, got array');
    return parseRecord(value, undefined, opts);
  }

  const scanned = scanEventObject(text);
  if (scanned !== null) return parseRecord(scanned, text, opts);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail('invalid_json', clip((error as Error).message, 160));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('not_an_object', `expected a JSON object, got ${typeName(parsed)}`);
  }
  return parseRecord(parsed as Readonly<Record<string, unknown>>, text, opts);
}

function tooLarge(bytes: number): ParseOutcome {
  return fail('too_large', `message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
}

/** `text` is the JSON source when there is one: error details quote numbers from it exactly. */
function parseRecord(
  record: Readonly<Record<string, unknown>>,
  text: string | undefined,
  opts: ParseOptions,
): ParseOutcome {
  const rawEventId = record.event_id;
  const rawEventTs = record.event_ts;
  const rawSessionId = record.session_id;
  const rawDocumentId = record.document_id;
  const rawTitle = record.title;
  const rawClinicalArea = record.clinical_area;

  // Presence first, for all six: a missing field means the producer speaks another schema,
  // which is worth one consistent reason whatever the other values hold. JSON cannot produce
  // undefined, so undefined means "no such key" (or a record reader's missing column).
  if (rawEventId === undefined) return missing('event_id');
  if (rawEventTs === undefined) return missing('event_ts');
  if (rawSessionId === undefined) return missing('session_id');
  if (rawDocumentId === undefined) return missing('document_id');
  if (rawTitle === undefined) return missing('title');
  if (rawClinicalArea === undefined) return missing('clinical_area');

  if (typeof rawEventId !== 'string') return wrongType('event_id', 'a string', rawEventId);
  const eventIdProblem = checkText('event_id', rawEventId, 1, MAX_ID_LENGTH);
  if (eventIdProblem !== null) return eventIdProblem;

  const eventTs = parseEventTs(rawEventTs, text);
  if (typeof eventTs !== 'number') return eventTs;

  if (typeof rawSessionId !== 'string') return wrongType('session_id', 'a string', rawSessionId);
  const sessionIdProblem = checkText('session_id', rawSessionId, 1, MAX_ID_LENGTH);
  if (sessionIdProblem !== null) return sessionIdProblem;

  const documentId = parseDocumentId(rawDocumentId, text);
  if (typeof documentId !== 'string') return documentId;

  let title: string | null = null;
  if (rawTitle !== null) {
    if (typeof rawTitle !== 'string') return wrongType('title', 'a string or null', rawTitle);
    const titleProblem = checkText('title', rawTitle, 0, MAX_TITLE_LENGTH);
    if (titleProblem !== null) return titleProblem;
    title = rawTitle;
  }

  let clinicalArea = UNKNOWN_CLINICAL_AREA;
  if (rawClinicalArea !== null) {
    if (typeof rawClinicalArea !== 'string') {
      return wrongType('clinical_area', 'a string or null', rawClinicalArea);
    }
    const areaProblem = checkText('clinical_area', rawClinicalArea, 0, MAX_CLINICAL_AREA_LENGTH);
    if (areaProblem !== null) return areaProblem;
    if (rawClinicalArea.length > 0) clinicalArea = rawClinicalArea;
  }

  // Last, so that a malformed event is reported for what is wrong with it, and so that a single
  // far-future timestamp can never reach the watermark.
  if (eventTs > opts.nowMs + opts.maxFutureSkewMs) {
    return fail(
      'future_timestamp',
      `event_ts: ${new Date(eventTs).toISOString()} is more than ${opts.maxFutureSkewMs} ms ahead of ` +
        `the processor clock (${isoOrRaw(opts.nowMs)})`,
    );
  }

  const event: ClickEvent = { eventId: rawEventId, eventTs, sessionId: rawSessionId, documentId, title, clinicalArea };
  return { ok: true, event };
}

function missing(field: string): ParseOutcome {
  return fail('missing_field', `${field}: missing`);
}

function wrongType(field: string, expected: string, value: unknown): ParseOutcome {
  return fail('wrong_type', `${field}: expected ${expected}, got ${typeName(value)}`);
}

/**
 * Length in code points within [min, max], and content PostgreSQL can store faithfully: text
 * columns reject U+0000 outright (which would fail the whole batch transaction), and a lone
 * surrogate would be silently replaced by U+FFFD, merging distinct ids.
 */
function checkText(field: string, value: string, min: number, max: number): ParseOutcome | null {
  // Code points never outnumber UTF-16 units, so the exact count is only needed past max.
  if (value.length > max) {
    const length = codePointLength(value);
    if (length > max) return fail('invalid_value', `${field}: ${length} characters; at most ${max} allowed`);
  }
  if (value.length < min) return fail('invalid_value', `${field}: must not be empty`);
  if (value.indexOf('\u0000') !== -1) {
    return fail('invalid_value', `${field}: contains U+0000, which PostgreSQL text cannot store`);
  }
  if (!value.isWellFormed()) {
    return fail('invalid_value', `${field}: contains an unpaired UTF-16 surrogate`);
  }
  return null;
}

// ---- event_ts ----

type TimestampProblem = 'format' | 'offset' | 'calendar';

function parseEventTs(value: unknown, text: string | undefined): number | ParseOutcome {
  let ms: number;
  if (typeof value === 'string') {
    const parsed = parseIsoTimestamp(value);
    if (typeof parsed !== 'number') return fail('invalid_timestamp', timestampProblemDetail(value, parsed));
    ms = parsed;
  } else if (typeof value === 'number') {
    if (Number.isNaN(value)) return fail('invalid_timestamp', 'event_ts: NaN is not an instant');
    // Checked before integrality: 1e300 is an "integer" that no longer means anything exact.
    if (!(Math.abs(value) <= Number.MAX_SAFE_INTEGER)) {
      return fail(
        'unsafe_number',
        `event_ts: ${numberSource(text, 'event_ts', value)} is beyond ±(2^53-1) and cannot be read exactly`,
      );
    }
    if (!Number.isInteger(value)) {
      return fail('invalid_timestamp', `event_ts: ${value} is not a whole number of epoch milliseconds`);
    }
    ms = value + 0; // normalises -0
  } else if (typeof value === 'bigint') {
    if (value < 0n || value > MAX_EVENT_TS_BIGINT) return outOfRange(`${value}`);
    ms = Number(value);
  } else if (value instanceof Date) {
    ms = value.getTime();
    if (Number.isNaN(ms)) return fail('invalid_timestamp', 'event_ts: invalid Date');
  } else {
    return wrongType('event_ts', 'an ISO-8601 string or epoch milliseconds', value);
  }
  if (ms < 0 || ms > MAX_EVENT_TS_MS) {
    return outOfRange(typeof value === 'string' ? JSON.stringify(clip(value, 40)) : `${ms}`);
  }
  return ms;
}

function outOfRange(shown: string): ParseOutcome {
  return fail('invalid_timestamp', `event_ts: ${shown} is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z`);
}

function timestampProblemDetail(value: string, problem: TimestampProblem): string {
  const shown = JSON.stringify(clip(value, 40));
  if (problem === 'offset') return `event_ts: ${shown} has no UTC offset; expected Z or ±HH:MM`;
  if (problem === 'calendar') return `event_ts: ${shown} is not a real calendar date and time`;
  return `event_ts: ${shown} is not ISO-8601 YYYY-MM-DDTHH:MM:SS[.fff] with Z or ±HH:MM`;
}

/**
 * YYYY-MM-DD(T| )HH:MM:SS[.fraction](Z|±HH:MM|±HHMM) to epoch ms; the fraction is truncated to
 * milliseconds (toward the past, as every result is ≥ 1970). Leap seconds (:60) are rejected:
 * nothing downstream can represent them.
 */
function parseIsoTimestamp(s: string): number | TimestampProblem {
  const n = s.length;
  if (n < 19) return 'format';
  const century = twoDigits(s, 0);
  const yearOfCentury = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const separator = s.charCodeAt(10);
  if (
    century < 0 || yearOfCentury < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 ||
    s.charCodeAt(4) !== CH_DASH || s.charCodeAt(7) !== CH_DASH ||
    (separator !== CH_T && separator !== CH_SPACE) ||
    s.charCodeAt(13) !== CH_COLON || s.charCodeAt(16) !== CH_COLON
  ) {
    return 'format';
  }
  const year = century * 100 + yearOfCentury;

  let i = 19;
  let fractionMs = 0;
  if (i < n && s.charCodeAt(i) === CH_DOT) {
    i++;
    const start = i;
    while (i < n && isDigit(s.charCodeAt(i))) {
      // Digits past the third are read over but ignored: truncation, not rounding.
      if (i - start < 3) fractionMs = fractionMs * 10 + (s.charCodeAt(i) - CH_0);
      i++;
    }
    const digits = i - start;
    if (digits === 0) return 'format';
    if (digits === 1) fractionMs *= 100;
    else if (digits === 2) fractionMs *= 10;
  }

  if (i === n) return 'offset';
  let offsetMinutes = 0;
  const sign = s.charCodeAt(i);
  if (sign === CH_Z) {
    if (i + 1 !== n) return 'format';
  } else if (sign === CH_PLUS || sign === CH_DASH) {
    const rest = n - i - 1;
    const offsetHour = twoDigits(s, i + 1);
    let offsetMinute: number;
    if (rest === 5 && s.charCodeAt(i + 3) === CH_COLON) offsetMinute = twoDigits(s, i + 4);
    else if (rest === 4) offsetMinute = twoDigits(s, i + 3);
    else return 'format';
    if (offsetHour < 0 || offsetMinute < 0) return 'format';
    if (offsetHour > 23 || offsetMinute > 59) return 'calendar';
    offsetMinutes = (sign === CH_PLUS ? 1 : -1) * (offsetHour * 60 + offsetMinute);
  } else {
    return 'format';
  }

  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 'calendar';
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month] as number);
  if (day > monthDays) return 'calendar';

  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute) * 60 + second) * 1000 +
    fractionMs -
    offsetMinutes * MS_PER_MINUTE
  );
}

/** Two ASCII digits at i as a number, or -1. Callers guarantee i + 1 < length. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - CH_0;
  const b = s.charCodeAt(i + 1) - CH_0;
  // NaN (past the end) fails both comparisons, so it is rejected too.
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return -1;
  return a * 10 + b;
}

function isDigit(code: number): boolean {
  return code >= CH_0 && code <= CH_0 + 9;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

// ---- document_id ----

function parseDocumentId(value: unknown, text: string | undefined): string | ParseOutcome {
  if (typeof value === 'string') return parseDecimalDocumentId(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      // Negative and fractional first: they are wrong whatever their size.
      return fail('invalid_value', `document_id: ${value} is not a non-negative integer`);
    }
    if (value > Number.MAX_SAFE_INTEGER) {
      // JSON.parse has already rounded it: reporting or keeping String(value) would name
      // another document. The detail quotes the digits that were sent.
      const asWhat = text === undefined ? 'a number' : 'a JSON number';
      return fail(
        'unsafe_number',
        `document_id: ${numberSource(text, 'document_id', value)} exceeds 2^53-1 as ${asWhat}; send it as a decimal string`,
      );
    }
    return `${value + 0}`; // + 0 turns -0 into 0
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > MAX_DOCUMENT_ID_BIGINT) {
      return fail('invalid_value', `document_id: ${clip(`${value}`, 40)} is outside 0 … 2^63-1`);
    }
    return `${value}`;
  }
  return wrongType('document_id', 'an integer or a decimal string', value);
}

function parseDecimalDocumentId(value: string): string | ParseOutcome {
  const n = value.length;
  if (n === 0) return fail('invalid_value', 'document_id: empty string');
  let firstSignificant = -1;
  for (let i = 0; i < n; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) {
      return fail('invalid_value', `document_id: ${JSON.stringify(clip(value, 40))} is not a decimal integer`);
    }
    if (firstSignificant === -1 && code !== CH_0) firstSignificant = i;
  }
  if (firstSignificant === -1) return '0';
  const digits = firstSignificant === 0 ? value : value.slice(firstSignificant);
  // Equal lengths of digits compare like the numbers they spell.
  if (digits.length > MAX_DOCUMENT_ID.length || (digits.length === MAX_DOCUMENT_ID.length && digits > MAX_DOCUMENT_ID)) {
    return fail('invalid_value', `document_id: ${JSON.stringify(clip(value, 40))} exceeds 2^63-1`);
  }
  return digits;
}

/**
 * The literal digits of a top-level number as they appear in the JSON text, so that a detail
 * about an unsafe number shows what the producer sent rather than the rounded double. Only
 * called on the dead-letter path, where re-parsing with a reviver is affordable.
 */
function numberSource(text: string | undefined, field: string, fallback: number): string {
  if (text !== undefined) {
    const sources = new Map<object, string>();
    try {
      const top: unknown = JSON.parse(
        text,
        function (this: object, key: string, value: unknown, context?: { source?: string }): unknown {
          if (key === field && context?.source !== undefined) sources.set(this, context.source);
          return value;
        },
      );
      const source = typeof top === 'object' && top !== null ? sources.get(top) : undefined;
      if (source !== undefined) return clip(source, 60);
    } catch {
      // Parsed once already; fall back to the double below if the platform disagrees.
    }
  }
  return `${fallback}`;
}

// ---- small helpers ----

function codePointLength(s: string): number {
  let count = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < n) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** UTF-8 size of a string as TextEncoder would write it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8ByteLength(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < n) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  return typeof value;
}

function isoOrRaw(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms}`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
