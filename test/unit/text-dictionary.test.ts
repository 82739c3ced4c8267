// The read thread's dictionary encoding of text columns: one code per distinct byte string, in
// order of first occurrence, −1 for nulls, and the distinct values' bytes back exactly.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { encodeTextDictionary } from '../../src/io/lake/text-dictionary.ts';

function column(values: readonly (string | null)[]): { bytes: Uint8Array; offsets: Int32Array; isNull: (row: number) => boolean } {
  const parts = values.map((v) => Buffer.from(v ?? '', 'utf8'));
  const offsets = new Int32Array(values.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = (offsets[i] as number) + p.length));
  return { bytes: Buffer.concat(parts), offsets, isNull: (row) => values[row] === null };
}

function decoded(values: readonly (string | null)[], withNulls = true): (string | null)[] {
  const c = column(values);
  const d = encodeTextDictionary(c.bytes, c.offsets, values.length, withNulls ? c.isNull : null);
  const text = Buffer.from(d.bytes);
  const distinct = Array.from({ length: d.offsets.length - 1 }, (_, k) => text.toString('utf8', d.offsets[k], d.offsets[k + 1]));
  return Array.from(d.codes, (code) => (code < 0 ? null : (distinct[code] as string)));
}

describe('encodeTextDictionary', () => {
  it('numbers distinct values in order of first occurrence, nulls as −1', () => {
    const c = column(['b', 'a', null, 'b', '', 'a', '']);
    const d = encodeTextDictionary(c.bytes, c.offsets, 7, c.isNull);
    expect([...d.codes]).toEqual([0, 1, -1, 0, 2, 1, 2]);
    expect([...d.offsets]).toEqual([0, 1, 2, 2]);
    expect(Buffer.from(d.bytes).toString()).toBe('ba');
  });

  it('gives back every value exactly, multi-byte text and near-equal values included', () => {
    const values: (string | null)[] = [];
    for (let i = 0; i < 5000; i++) {
      values.push(i % 11 === 0 ? null : `Guideline ${i % 97} — ${'é'.repeat(i % 3)}${i % 2 === 0 ? '' : ' '}`);
    }
    values.push('Guideline 1 — ', 'Guideline 1 —', '심근경색', '심근경색 ', '');
    expect(decoded(values)).toEqual(values);
  });

  it('reads no validity when the column has no nulls', () => {
    expect(decoded(['x', 'y', 'x'], false)).toEqual(['x', 'y', 'x']);
  });

  it('keeps values whose hashes collide apart (many distinct values in a small table)', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => `v${i}`);
    const c = column(values);
    const d = encodeTextDictionary(c.bytes, c.offsets, values.length, null);
    expect(d.offsets.length - 1).toBe(20_000);
    expect(decoded(values, false)).toEqual(values);
  });
});
