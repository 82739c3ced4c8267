// Values in PostgreSQL's COPY text format: fields separated by tabs, rows ended by newlines,
// \N for null, and backslash, tab, newline and carriage return backslash-escaped inside text.
// Instants are written as UTC timestamps with milliseconds; COPY parses them like any
// timestamptz input, so the stored value is the exact millisecond.

const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text value as a COPY field (null as \N). */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  // Ids almost never need escaping: test first, replace only then.
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string) : value;
}

const MS_PER_DAY = 86_400_000;
/** Years 0001–9999 format as four digits; anything else goes through Date's ISO form. */
const MIN_MS = Date.UTC(1, 0, 1);
const MAX_MS = Date.UTC(10_000, 0, 1);

/**
 * Formats epoch milliseconds as 'YYYY-MM-DD HH:MM:SS.mmm+00'. A cold day's instants fall in one
 * or two UTC dates, so the date part is cached and each value costs a few integer operations
 * instead of a Date and toISOString (a tenth of the cold step's write time at 10M events).
 */
export class UtcTimestampFormatter {
  private day = Number.NaN;
  private datePart = '';

  format(ms: number): string {
    if (!Number.isInteger(ms) || ms < MIN_MS || ms >= MAX_MS) {
      if (ms === Number.POSITIVE_INFINITY) return 'infinity';
      if (ms === Number.NEGATIVE_INFINITY) return '-infinity';
      if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${ms}`);
      return new Date(ms).toISOString();
    }
    const day = Math.floor(ms / MS_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.datePart = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    }
    let rest = ms - day * MS_PER_DAY;
    const millis = rest % 1000;
    rest = (rest - millis) / 1000;
    const seconds = rest % 60;
    rest = (rest - seconds) / 60;
    const minutes = rest % 60;
    const hours = (rest - minutes) / 60;
    return `${this.datePart} ${two(hours)}:${two(minutes)}:${two(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}+00`;
  }
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
