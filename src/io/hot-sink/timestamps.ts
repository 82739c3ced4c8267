// Instants cross the SQL boundary as ISO strings (±infinity included), and come back as epoch
// milliseconds through float8, so no Date parsing or time-zone setting can shift them.

export function toSqlTimestamp(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'infinity';
  if (ms === Number.NEGATIVE_INFINITY) return '-infinity';
  return new Date(ms).toISOString();
}

/** SQL expression turning a timestamptz column into float8 epoch milliseconds. */
export function epochMs(column: string): string {
  return `(extract(epoch from ${column}) * 1000)::float8`;
}

export function fromSqlEpoch(value: unknown): number {
  if (typeof value === 'number') return Math.round(value);
  if (typeof value === 'string') {
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    return Math.round(Number(value));
  }
  throw new Error(`unexpected epoch value ${String(value)}`);
}
