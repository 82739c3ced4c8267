// DocumentNumbering: a document_id reaches one number whether it comes as a value or as text,
// and ids beyond 2^53 − 1 stay exact as text.
import { describe, expect, it } from 'vitest';
import { DocumentNumbering } from '../../src/batch/document-numbering.ts';

describe('DocumentNumbering', () => {
  it('numbers by value and by text alike, in first-seen order, and ranks in BIGINT order', () => {
    const documents = new DocumentNumbering();
    expect(documents.ofValue(42)).toBe(0);
    expect(documents.ofText('42')).toBe(0);
    expect(documents.ofText('9007199254740991')).toBe(1); // 2^53 − 1: still a value
    expect(documents.ofValue(9_007_199_254_740_991)).toBe(1);
    expect(documents.ofText('9007199254740993')).toBe(2); // beyond 2^53: by text, exact
    expect(documents.ofText('9007199254740992')).toBe(3);
    expect(documents.ofText('0')).toBe(4);
    expect(documents.size).toBe(5);
    expect([0, 1, 2, 3, 4].map((n) => documents.name(n))).toEqual(['42', '9007199254740991', '9007199254740993', '9007199254740992', '0']);
    expect([...documents.ranks()]).toEqual([1, 2, 4, 3, 0]);
  });
});
