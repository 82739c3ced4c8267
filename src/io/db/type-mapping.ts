// One mapping from PostgreSQL values to JavaScript, shared by the pg and the PGlite adapters so
// that code tested on the embedded database reads exactly the same shapes on a real server:
//
//   int2, int4, float4, float8 → number       int8 (BIGINT), numeric → string (never rounded)
//   timestamptz → Date (ms; µs truncated)     date, timestamp, interval → their text
//   bool → boolean   json/jsonb → parsed      bytea → Uint8Array (a Buffer on pg)
//   '±infinity'::timestamptz → ±Infinity (a number, as both drivers have always done)
//
// Both adapters pin the session to TimeZone UTC and DateStyle ISO, which this parser relies on
// for the common case; it still copes with any zone (offsets with seconds, as historic local
// mean times have) and with BC years, because a transaction may SET LOCAL TimeZone.

export const OID = {
  int8: 20,
  int8Array: 1016,
  numeric: 1700,
  numericArray: 1231,
  date: 1082,
  dateArray: 1182,
  timestamp: 1114,
  timestampArray: 1115,
  timestamptz: 1184,
  timestamptzArray: 1185,
  interval: 1186,
  intervalArray: 1187,
  json: 114,
  jsonb: 3802,
} as const;

/** The session settings both adapters apply on every new connection. */
export const SESSION_SETUP_SQL = "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; SET IntervalStyle TO 'postgres'";

const TIMESTAMPTZ_PATTERN =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

function toInt(text: string | undefined): number {
  return text === undefined ? 0 : Number.parseInt(text, 10);
}

/** Parses PostgreSQL's ISO output of a timestamptz into a Date (or ±Infinity for 'infinity'). */
export function parseTimestamptz(text: string): Date | number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  const m = TIMESTAMPTZ_PATTERN.exec(text);
  if (m === null) throw new Error(`unexpected timestamptz text '${text}' (is DateStyle ISO?)`);
  const [, year, month, day, hour, minute, second, fraction, sign, offH, offM, offS, bc] = m;
  // Date.UTC maps years 0–99 to 1900–1999, so the year is set separately; 1 BC is year 0.
  const date = new Date(0);
  const y = toInt(year);
  date.setUTCFullYear(bc === undefined ? y : 1 - y, toInt(month) - 1, toInt(day));
  const millis = fraction === undefined ? 0 : toInt(fraction.slice(0, 3).padEnd(3, '0'));
  date.setUTCHours(toInt(hour), toInt(minute), toInt(second), millis);
  const offsetSeconds = (toInt(offH) * 3600 + toInt(offM) * 60 + toInt(offS)) * (sign === '-' ? -1 : 1);
  const ms = date.getTime() - offsetSeconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new RangeError(`timestamptz '${text}' is outside the range of a JavaScript Date`);
  }
  return new Date(ms);
}

export function identity(text: string): string {
  return text;
}
