// COPY text values: escaping of text fields and the fast UTC timestamp form, checked against
// Date's own formatting.
import { describe, expect, it } from 'vitest';
import { UtcTimestampFormatter, copyText } from '../../src/io/mart-store/copy-text.ts';

describe('copyText', () => {
  it('passes plain text through and escapes backslash, tab, newline and carriage return', () => {
    expect(copyText('s-123')).toBe('s-123');
    expect(copyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyText('ünï ✓')).toBe('ünï ✓');
    expect(copyText(null)).toBe('\\N');
  });
});

describe('UtcTimestampFormatter', () => {
  const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00');

  it('matches the ISO form to the millisecond across days, also out of order', () => {
    const f = new UtcTimestampFormatter();
    const base = Date.UTC(2026, 4, 12);
    const samples = [base, base + 1, base + 999, base + 86_399_999, base + 86_400_000, base - 1, Date.UTC(2024, 1, 29, 23, 59, 59, 7), Date.UTC(1, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), 0];
    for (let i = 0; i < 2000; i++) samples.push(base + Math.floor(((i * 7919) % 2000) * 86_400_000 / 1000) + (i % 1000));
    for (const ms of samples) expect(f.format(ms)).toBe(iso(ms));
  });

  it('falls back to Date outside years 1–9999 and spells the infinities', () => {
    const f = new UtcTimestampFormatter();
    expect(f.format(Date.UTC(10_000, 0, 1))).toBe(new Date(Date.UTC(10_000, 0, 1)).toISOString());
    expect(f.format(Number.POSITIVE_INFINITY)).toBe('infinity');
    expect(f.format(Number.NEGATIVE_INFINITY)).toBe('-infinity');
    expect(() => f.format(Number.NaN)).toThrow(RangeError);
  });
});
