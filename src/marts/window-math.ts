// Window arithmetic shared by the stream and batch paths. All instants are epoch milliseconds
// UTC; cadences are aligned to the epoch, as the spec requires (minutes, 5-minute steps, …).

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Largest multiple of step that is ≤ ts. */
export function floorTo(ts: number, step: number): number {
  return Math.floor(ts / step) * step;
}

/** Smallest multiple of step strictly greater than ts: the first snapshot instant whose window [T − w, T) contains ts. */
export function nextBoundaryAfter(ts: number, step: number): number {
  return floorTo(ts, step) + step;
}

/** `date_trunc('minute', ts)`. */
export function minuteOf(ts: number): number {
  return floorTo(ts, MINUTE_MS);
}

/** Compares canonical non-negative decimal strings numerically (BIGINT order). */
export function compareDecimalIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JS code-unit order, the same as PostgreSQL's COLLATE "C" for the ids we accept. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * trend_pct = 100 × (cur − prev) / prev rounded half away from zero to 2 decimals, computed
 * with integers so the result is exact; null when prev is 0.
 */
export function trendPercent(cur: number, prev: number): string | null {
  if (prev === 0) return null;
  const numerator = 10_000 * (cur - prev);
  const negative = numerator < 0;
  const magnitude = Math.abs(numerator);
  let hundredths = Math.floor(magnitude / prev);
  if ((magnitude % prev) * 2 >= prev) hundredths += 1;
  const whole = Math.floor(hundredths / 100);
  const fraction = String(hundredths % 100).padStart(2, '0');
  return `${negative && hundredths !== 0 ? '-' : ''}${whole}.${fraction}`;
}
