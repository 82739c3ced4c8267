// The event scanner is a shortcut past JSON.parse: whatever it accepts must be read exactly as
// JSON.parse reads it, and everything else must be left to JSON.parse (null). Checked on
// hand-picked edge cases and on seeded random mutations of valid events.
import { describe, expect, it } from 'vitest';
import { scanEventObject } from '../../src/marts/event-json-scan.ts';

const VALID = '{"event_id":"e-1","event_ts":1772323200000,"session_id":"s-1","document_id":"42","title":"Aspirin","clinical_area":"cardiology"}';

/** The keys the scanner found (it reports absent keys as undefined), as a fresh object. */
function present(text: string): Record<string, unknown> | null {
  const scanned = scanEventObject(text);
  if (scanned === null) return null;
  return Object.fromEntries(Object.entries(scanned).filter(([, v]) => v !== undefined));
}

/** The scanner's answer is null, or exactly JSON.parse's object. */
function expectAgreement(text: string): void {
  const scanned = present(text);
  if (scanned === null) return;
  let parsed: unknown;
  expect(() => (parsed = JSON.parse(text)), text).not.toThrow();
  expect(scanned, text).toStrictEqual(parsed);
  expect(Object.is(scanned.event_ts, (parsed as Record<string, unknown>).event_ts), text).toBe(true);
}

describe('scanEventObject', () => {
  it('reads the common shape without JSON.parse', () => {
    expect(present(VALID)).toStrictEqual(JSON.parse(VALID));
    expect(present(' { "event_id" : "x" ,\n\t"title" : null , "event_ts": -0 }\r\n')).toStrictEqual({ event_id: 'x', title: null, event_ts: -0 });
    expect(present('{}')).toStrictEqual({});
    expect(present('{"title":"ü €😀"}')).toStrictEqual({ title: 'ü €😀' });
  });

  it('leaves everything else to JSON.parse', () => {
    const declined = [
      '',
      '[]',
      '{',
      '{"event_id":"a\\"b"}',
      '{"event_id":"a\u0001b"}',
      '{"event_id":"a","event_id":"b"}',
      '{"unknown":"x"}',
      '{"event_idx":"x"}',
      '{"event_ts":1.5}',
      '{"event_ts":1e3}',
      '{"event_ts":01}',
      '{"event_ts":1234567890123456}',
      '{"event_ts":-}',
      '{"event_ts":true}',
      '{"title":nul}',
      '{"title":{"a":1}}',
      '{"title":"x",}',
      '{"title":"x"} x',
      '\ufeff{"title":"x"}',
      '{"title":"x"\u00a0}',
      "{'title':'x'}",
      '{"title":"x"',
    ];
    for (const text of declined) expect(scanEventObject(text), text).toBeNull();
  });

  it('agrees with JSON.parse on 200k seeded mutations of valid events', () => {
    let seed = 11;
    const next = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const alphabet = ['"', '\\', ',', ':', '{', '}', ' ', '\n', '0', '1', '9', '-', '.', 'e', 'n', 'u', 'l', 'x', '\u0000', '\u2028', 'é', '\ud800'];
    let accepted = 0;
    for (let k = 0; k < 200_000; k++) {
      let text = VALID;
      const edits = 1 + next(3);
      for (let e = 0; e < edits; e++) {
        const at = next(text.length + 1);
        const op = next(3);
        const ch = alphabet[next(alphabet.length)]!;
        if (op === 0) text = text.slice(0, at) + ch + text.slice(at);
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + ch + text.slice(at + 1);
      }
      if (scanEventObject(text) !== null) accepted++;
      expectAgreement(text);
    }
    // The mutations must exercise the accepting path too, not only refusals.
    expect(accepted).toBeGreaterThan(10_000);
  });
});
