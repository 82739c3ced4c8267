// Every branch of the curated-event contract (SPEC §2), with exact expected values.
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_TS_MS, MAX_MESSAGE_BYTES, parseRawMessage } from '../../src/marts/event-contract.ts';
import type { ParseOptions } from '../../src/marts/event-contract.ts';
import type { ClickEvent, ParseOutcome, RawMessage } from '../../src/marts/types.ts';

const NOW = Date.UTC(2030, 0, 1);
const OPTS: ParseOptions = { nowMs: NOW, maxFutureSkewMs: 300_000 };
// A clock at the end of representable time, for tests about the upper timestamp bound.
const FAR: ParseOptions = { nowMs: MAX_EVENT_TS_MS, maxFutureSkewMs: 0 };

const BASE = {
  event_id: 'e-1',
  event_ts: '2024-03-10T12:34:56.789Z',
  session_id: 's-1',
  document_id: 42,
  title: 'Sepsis guideline',
  clinical_area: 'Cardiology',
} as const;

const BASE_EVENT: ClickEvent = {
  eventId: 'e-1',
  eventTs: Date.UTC(2024, 2, 10, 12, 34, 56, 789),
  sessionId: 's-1',
  documentId: '42',
  title: 'Sepsis guideline',
  clinicalArea: 'Cardiology',
};

const OMIT = Symbol('omit');
type Overrides = Record<string, unknown>;

function record(overrides: Overrides = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...BASE };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === OMIT) delete out[key];
    else out[key] = value;
  }
  return out;
}

function json(overrides: Overrides = {}): string {
  return JSON.stringify(record(overrides));
}

function parse(value: RawMessage['value'], opts: ParseOptions = OPTS): ParseOutcome {
  return parseRawMessage(value, opts);
}

function ok(event: Partial<ClickEvent> = {}): ParseOutcome {
  return { ok: true, event: { ...BASE_EVENT, ...event } };
}

function bad(reason: string, detail: string): ParseOutcome {
  return { ok: false, reason, detail } as ParseOutcome;
}

/** How details quote a string value: JSON-quoted, clipped to 40 characters. */
function quoted(text: string): string {
  return JSON.stringify(text.length <= 40 ? text : `${text.slice(0, 40)}…`);
}

function reasonOf(outcome: ParseOutcome): string {
  return outcome.ok ? 'ok' : outcome.reason;
}

/** A JSON event padded (via an ignored extra field) to exactly `bytes` UTF-8 bytes with `pad`. */
function paddedMessage(bytes: number, pad: string): string {
  const skeleton = JSON.stringify({ ...BASE, padding: '' });
  const padBytes = new TextEncoder().encode(pad).length;
  let room = bytes - new TextEncoder().encode(skeleton).length;
  const count = Math.floor(room / padBytes);
  let padding = pad.repeat(count);
  room -= count * padBytes;
  padding += 'x'.repeat(room);
  const text = JSON.stringify({ ...BASE, padding });
  expect(new TextEncoder().encode(text).length).toBe(bytes);
  return text;
}

describe('parseRawMessage: envelope', () => {
  it('parses a JSON string', () => {
    expect(parse(json())).toEqual(ok());
  });

  it('parses UTF-8 bytes', () => {
    expect(parse(new TextEncoder().encode(json({ title: 'Ürologie – 腎臓 🩺' })))).toEqual(
      ok({ title: 'Ürologie – 腎臓 🩺' }),
    );
  });

  it('ignores a UTF-8 byte order mark in bytes', () => {
    const body = new TextEncoder().encode(json());
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...body]);
    expect(parse(withBom)).toEqual(ok());
  });

  it('accepts a Buffer (a Uint8Array subclass)', () => {
    expect(parse(Buffer.from(json(), 'utf8'))).toEqual(ok());
  });

  it('treats null, undefined and empty input as invalid_json "empty message"', () => {
    expect(parse(null)).toEqual(bad('invalid_json', 'empty message'));
    expect(parse(undefined as unknown as RawMessage['value'])).toEqual(bad('invalid_json', 'empty message'));
    expect(parse('')).toEqual(bad('invalid_json', 'empty message'));
    expect(parse(new Uint8Array(0))).toEqual(bad('invalid_json', 'empty message'));
  });

  describe('size limit (64 KiB of UTF-8)', () => {
    it('accepts exactly 65536 bytes and rejects 65537, ASCII', () => {
      expect(MAX_MESSAGE_BYTES).toBe(65_536);
      expect(parse(paddedMessage(65_536, 'a'))).toEqual(ok());
      expect(parse(paddedMessage(65_537, 'a'))).toEqual(bad('too_large', 'message is 65537 bytes; the limit is 65536'));
    });

    it('counts UTF-8 bytes, not UTF-16 units, for strings (3-byte characters)', () => {
      const fits = paddedMessage(65_536, '€');
      const over = paddedMessage(65_537, '€');
      expect(over.length).toBeLessThan(30_000);
      expect(parse(fits)).toEqual(ok());
      expect(parse(over)).toEqual(bad('too_large', 'message is 65537 bytes; the limit is 65536'));
    });

    it('counts 4-byte characters (emoji, two UTF-16 units) as 4 bytes', () => {
      const fits = paddedMessage(65_536, '🩺');
      const over = paddedMessage(65_537, '🩺');
      expect(parse(fits)).toEqual(ok());
      expect(parse(over)).toEqual(bad('too_large', 'message is 65537 bytes; the limit is 65536'));
    });

    it('counts 2-byte characters', () => {
      expect(parse(paddedMessage(65_536, 'é'))).toEqual(ok());
      expect(reasonOf(parse(paddedMessage(65_537, 'é')))).toBe('too_large');
    });

    it('applies the same limit to bytes, before decoding', () => {
      const enc = new TextEncoder();
      expect(parse(enc.encode(paddedMessage(65_536, '€')))).toEqual(ok());
      expect(parse(enc.encode(paddedMessage(65_537, '€')))).toEqual(
        bad('too_large', 'message is 65537 bytes; the limit is 65536'),
      );
      // Too large wins over invalid UTF-8: the size check comes first.
      expect(parse(new Uint8Array(70_000).fill(0xff))).toEqual(
        bad('too_large', 'message is 70000 bytes; the limit is 65536'),
      );
    });

    it('counts a lone surrogate in a string as 3 bytes (what an encoder would write)', () => {
      const text = paddedMessage(65_536, '€');
      // Replace one 3-byte '€' with a 3-byte lone surrogate: still exactly at the limit, so
      // the size check passes and the JSON stays valid (it ends up in the ignored padding).
      const swapped = text.replace('€', '\ud800');
      expect(parse(swapped)).toEqual(ok());
    });

    it('does not apply to records (they are not messages)', () => {
      expect(parse(record({ padding: 'x'.repeat(100_000) }))).toEqual(ok());
    });
  });

  describe('UTF-8 validity', () => {
    const cases: Array<[string, number[]]> = [
      ['a 0xFF byte', [0x7b, 0xff, 0x7d]],
      ['a truncated 3-byte sequence', [0x7b, 0x22, 0xe2, 0x82, 0x22, 0x7d]],
      ['an overlong encoding of "/"', [0x7b, 0xc0, 0xaf, 0x7d]],
      ['an encoded surrogate (CESU-8)', [0x7b, 0xed, 0xa0, 0x80, 0x7d]],
      ['a stray continuation byte', [0x80]],
    ];
    for (const [name, bytes] of cases) {
      it(`rejects ${name} as invalid_encoding`, () => {
        expect(parse(new Uint8Array(bytes))).toEqual(bad('invalid_encoding', 'message is not valid UTF-8'));
      });
    }

    it('rejects invalid UTF-8 even inside an otherwise valid event', () => {
      const enc = new TextEncoder();
      const [head, tail] = json({ title: 'XX' }).split('XX') as [string, string];
      const bytes = new Uint8Array([...enc.encode(head), 0xc3, 0x28, ...enc.encode(tail)]);
      expect(reasonOf(parse(bytes))).toBe('invalid_encoding');
    });
  });

  describe('JSON', () => {
    for (const text of ['{', 'hello', '{"event_id": "a",}', '{"a":1} trailing', "{'a':1}", 'NaN', '\u00a0']) {
      it(`rejects ${JSON.stringify(text)} as invalid_json with the parser's message`, () => {
        const outcome = parse(text);
        expect(reasonOf(outcome)).toBe('invalid_json');
        if (!outcome.ok) {
          expect(outcome.detail.length).toBeGreaterThan(0);
          expect(outcome.detail.length).toBeLessThanOrEqual(161);
        }
      });
    }

    it('clips a long parser message', () => {
      const outcome = parse(`{"x": "${'y'.repeat(500)}" oops}`);
      expect(reasonOf(outcome)).toBe('invalid_json');
      if (!outcome.ok) expect(outcome.detail.length).toBeLessThanOrEqual(161);
    });

    const notObjects: Array<[string, string]> = [
      ['[]', 'array'],
      ['[{"event_id":"a"}]', 'array'],
      ['null', 'null'],
      ['42', 'number'],
      ['"text"', 'string'],
      ['true', 'boolean'],
    ];
    for (const [text, type] of notObjects) {
      it(`rejects ${text} as not_an_object`, () => {
        expect(parse(text)).toEqual(bad('not_an_object', `expected a JSON object, got ${type}`));
        expect(parse(new TextEncoder().encode(text))).toEqual(bad('not_an_object', `expected a JSON object, got ${type}`));
      });
    }

    it('rejects an array given as a record', () => {
      expect(parse([] as unknown as RawMessage['value'])).toEqual(bad('not_an_object', 'expected an object, got array'));
    });

    it('accepts surrounding whitespace, as JSON does', () => {
      expect(parse(`\n  ${json()}  \n`)).toEqual(ok());
    });
  });
});

describe('parseRawMessage: fields', () => {
  it('ignores extra fields', () => {
    expect(parse(json({ extra: { nested: [1, 2] }, user_agent: 'x' }))).toEqual(ok());
  });

  it('reads the last of duplicate keys, as JSON.parse does', () => {
    expect(parse('{"event_id":"a","event_id":"b","event_ts":0,"session_id":"s","document_id":1,"title":null,"clinical_area":null}')).toEqual(
      { ok: true, event: { eventId: 'b', eventTs: 0, sessionId: 's', documentId: '1', title: null, clinicalArea: 'unknown' } },
    );
  });

  describe('presence', () => {
    for (const field of ['event_id', 'event_ts', 'session_id', 'document_id', 'title', 'clinical_area']) {
      it(`requires ${field}`, () => {
        expect(parse(json({ [field]: OMIT }))).toEqual(bad('missing_field', `${field}: missing`));
        expect(parse(record({ [field]: OMIT }))).toEqual(bad('missing_field', `${field}: missing`));
      });
    }

    it('treats an undefined record value as missing', () => {
      expect(parse(record({ title: undefined }))).toEqual(bad('missing_field', 'title: missing'));
    });

    it('reports the first missing field in field order', () => {
      expect(parse(json({ clinical_area: OMIT, session_id: OMIT }))).toEqual(bad('missing_field', 'session_id: missing'));
    });

    it('checks presence of all fields before any type', () => {
      expect(parse(json({ event_id: 5, clinical_area: OMIT }))).toEqual(bad('missing_field', 'clinical_area: missing'));
    });

    it('does not take a field from Object.prototype-like keys of a different name', () => {
      expect(parse('{"EVENT_ID":"a","event_ts":0,"session_id":"s","document_id":1,"title":null,"clinical_area":null}')).toEqual(
        bad('missing_field', 'event_id: missing'),
      );
    });
  });

  it('validates fields in order: event_id, event_ts, session_id, document_id, title, clinical_area', () => {
    const allBad = { event_id: 1, event_ts: true, session_id: 2, document_id: true, title: 3, clinical_area: 4 };
    expect(reasonOf(parse(json(allBad)))).toBe('wrong_type');
    expect(parse(json(allBad))).toEqual(bad('wrong_type', 'event_id: expected a string, got number'));
    expect(parse(json({ ...allBad, event_id: 'a' }))).toEqual(
      bad('wrong_type', 'event_ts: expected an ISO-8601 string or epoch milliseconds, got boolean'),
    );
    expect(parse(json({ ...allBad, event_id: 'a', event_ts: 0 }))).toEqual(
      bad('wrong_type', 'session_id: expected a string, got number'),
    );
    expect(parse(json({ ...allBad, event_id: 'a', event_ts: 0, session_id: 's' }))).toEqual(
      bad('wrong_type', 'document_id: expected an integer or a decimal string, got boolean'),
    );
    expect(parse(json({ ...allBad, event_id: 'a', event_ts: 0, session_id: 's', document_id: 1 }))).toEqual(
      bad('wrong_type', 'title: expected a string or null, got number'),
    );
    expect(parse(json({ event_id: 'a', event_ts: 0, session_id: 's', document_id: 1, title: null, clinical_area: 4 }))).toEqual(
      bad('wrong_type', 'clinical_area: expected a string or null, got number'),
    );
  });

  for (const field of ['event_id', 'session_id'] as const) {
    const key = field === 'event_id' ? 'eventId' : 'sessionId';
    describe(field, () => {
      const wrong: Array<[unknown, string]> = [
        [5, 'number'],
        [null, 'null'],
        [true, 'boolean'],
        [['a'], 'array'],
        [{ id: 'a' }, 'object'],
      ];
      for (const [value, type] of wrong) {
        it(`rejects ${JSON.stringify(value)} as wrong_type`, () => {
          expect(parse(json({ [field]: value }))).toEqual(bad('wrong_type', `${field}: expected a string, got ${type}`));
        });
      }

      it('rejects the empty string', () => {
        expect(parse(json({ [field]: '' }))).toEqual(bad('invalid_value', `${field}: must not be empty`));
      });

      it('accepts 1 and 128 characters, rejects 129', () => {
        expect(parse(json({ [field]: 'a' }))).toEqual(ok({ [key]: 'a' }));
        expect(parse(json({ [field]: 'a'.repeat(128) }))).toEqual(ok({ [key]: 'a'.repeat(128) }));
        expect(parse(json({ [field]: 'a'.repeat(129) }))).toEqual(
          bad('invalid_value', `${field}: 129 characters; at most 128 allowed`),
        );
      });

      it('counts code points: 128 emoji (256 UTF-16 units) fit, 129 do not', () => {
        const emoji128 = '😀'.repeat(128);
        expect(emoji128.length).toBe(256);
        expect(parse(json({ [field]: emoji128 }))).toEqual(ok({ [key]: emoji128 }));
        expect(parse(json({ [field]: '😀'.repeat(129) }))).toEqual(
          bad('invalid_value', `${field}: 129 characters; at most 128 allowed`),
        );
        expect(parse(json({ [field]: `${'😀'.repeat(127)}ab` }))).toEqual(
          bad('invalid_value', `${field}: 129 characters; at most 128 allowed`),
        );
      });

      it('rejects U+0000, which PostgreSQL text cannot store', () => {
        expect(parse(json({ [field]: 'a\u0000b' }))).toEqual(
          bad('invalid_value', `${field}: contains U+0000, which PostgreSQL text cannot store`),
        );
      });

      it('rejects an unpaired surrogate (JSON \\ud800 escape)', () => {
        const text = json({ [field]: 'PLACEHOLDER' }).replace('PLACEHOLDER', 'a\\ud800b');
        expect(parse(text)).toEqual(bad('invalid_value', `${field}: contains an unpaired UTF-16 surrogate`));
      });

      it('keeps whitespace and case exactly', () => {
        expect(parse(json({ [field]: ' Ab ' }))).toEqual(ok({ [key]: ' Ab ' }));
      });
    });
  }
});

describe('parseRawMessage: event_ts as a string', () => {
  const accepted: Array<[string, number]> = [
    ['2024-03-10T12:34:56Z', Date.UTC(2024, 2, 10, 12, 34, 56)],
    ['2024-03-10T12:34:56.789Z', Date.UTC(2024, 2, 10, 12, 34, 56, 789)],
    ['2024-03-10 12:34:56Z', Date.UTC(2024, 2, 10, 12, 34, 56)],
    ['2024-03-10T12:34:56.1Z', Date.UTC(2024, 2, 10, 12, 34, 56, 100)],
    ['2024-03-10T12:34:56.12Z', Date.UTC(2024, 2, 10, 12, 34, 56, 120)],
    ['2024-03-10T12:34:56.1239Z', Date.UTC(2024, 2, 10, 12, 34, 56, 123)],
    ['2024-03-10T12:34:56.999999999Z', Date.UTC(2024, 2, 10, 12, 34, 56, 999)],
    ['2024-03-10T12:34:56.000Z', Date.UTC(2024, 2, 10, 12, 34, 56)],
    ['2024-03-10T12:34:56+05:45', Date.UTC(2024, 2, 10, 6, 49, 56)],
    ['2024-03-10T12:34:56+0545', Date.UTC(2024, 2, 10, 6, 49, 56)],
    ['2024-03-10T12:34:56-03:30', Date.UTC(2024, 2, 10, 16, 4, 56)],
    ['2024-03-10T12:34:56-0330', Date.UTC(2024, 2, 10, 16, 4, 56)],
    ['2024-03-10T12:34:56.1239-03:30', Date.UTC(2024, 2, 10, 16, 4, 56, 123)],
    ['2024-03-10T12:34:56+00:00', Date.UTC(2024, 2, 10, 12, 34, 56)],
    ['2024-03-10T12:34:56-00:00', Date.UTC(2024, 2, 10, 12, 34, 56)],
    ['2024-03-10T12:34:56+23:59', Date.UTC(2024, 2, 9, 12, 35, 56)],
    ['2024-03-10T12:34:56-23:59', Date.UTC(2024, 2, 11, 12, 33, 56)],
    // Crossing a day, month and year boundary through the offset.
    ['2024-01-01T00:30:00+01:00', Date.UTC(2023, 11, 31, 23, 30)],
    ['2023-12-31T23:30:00-01:00', Date.UTC(2024, 0, 1, 0, 30)],
    // Leap days.
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    // 02:30 does not exist in New York on 2024-03-10 and 01:30 happens twice on 2024-11-03:
    // with an explicit offset neither matters, the UTC instant is plain arithmetic.
    ['2024-03-10T02:30:00-05:00', Date.UTC(2024, 2, 10, 7, 30)],
    ['2024-11-03T01:30:00-04:00', Date.UTC(2024, 10, 3, 5, 30)],
    ['2024-11-03T01:30:00-05:00', Date.UTC(2024, 10, 3, 6, 30)],
    ['2024-03-31T02:30:00+01:00', Date.UTC(2024, 2, 31, 1, 30)],
    // The bounds.
    ['1970-01-01T00:00:00Z', 0],
    ['1970-01-01T05:30:00+05:30', 0],
    ['2029-12-31T23:59:59.999Z', Date.UTC(2029, 11, 31, 23, 59, 59, 999)],
  ];
  for (const [text, expected] of accepted) {
    it(`reads ${text}`, () => {
      expect(parse(json({ event_ts: text }))).toEqual(ok({ eventTs: expected }));
    });
  }

  it('truncates .1239 toward the past, never rounds up', () => {
    const outcome = parse(json({ event_ts: '2024-03-10T12:34:56.1239Z' }));
    expect(outcome.ok && outcome.event.eventTs % 1000).toBe(123);
    const nines = parse(json({ event_ts: '2024-12-31T23:59:59.9999Z' }));
    expect(nines).toEqual(ok({ eventTs: Date.UTC(2024, 11, 31, 23, 59, 59, 999) }));
  });

  it('accepts the last representable instant', () => {
    expect(parse(json({ event_ts: '9999-12-31T23:59:59.999Z' }), FAR)).toEqual(ok({ eventTs: MAX_EVENT_TS_MS }));
    expect(parse(json({ event_ts: '9999-12-31T23:59:59.999Z' }), FAR)).toEqual(ok({ eventTs: 253_402_300_799_999 }));
  });

  it('agrees with Date.parse over a spread of instants and offsets', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(next() * Date.UTC(2100, 0, 1));
      const offset = Math.floor(next() * 27 * 60) - 12 * 60; // -12:00 … +14:59
      const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
      const sign = offset < 0 ? '-' : '+';
      const abs = Math.abs(offset);
      const text = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      const outcome = parse(json({ event_ts: text }), FAR);
      expect(outcome).toEqual(ok({ eventTs: ms }));
      expect(Date.parse(text)).toBe(ms);
    }
  });

  it('rejects a timestamp without an offset', () => {
    expect(parse(json({ event_ts: '2024-03-10T12:34:56' }))).toEqual(
      bad('invalid_timestamp', 'event_ts: "2024-03-10T12:34:56" has no UTC offset; expected Z or ±HH:MM'),
    );
    expect(parse(json({ event_ts: '2024-03-10 12:34:56.123456' }))).toEqual(
      bad('invalid_timestamp', 'event_ts: "2024-03-10 12:34:56.123456" has no UTC offset; expected Z or ±HH:MM'),
    );
  });

  const impossible = [
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-32T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00:00+05:60',
  ];
  for (const text of impossible) {
    it(`rejects the impossible ${text}`, () => {
      expect(parse(json({ event_ts: text }))).toEqual(
        bad('invalid_timestamp', `event_ts: ${JSON.stringify(text)} is not a real calendar date and time`),
      );
    });
  }

  const malformed = [
    '',
    '2024-03-10',
    '2024-03-10T12:34Z',
    '2024-3-10T12:34:56Z',
    '2024-03-10T12:34:5Z',
    '24-03-10T12:34:56Z',
    '+2024-03-10T12:34:56Z',
    '2024/03/10T12:34:56Z',
    '2024-03-10t12:34:56Z',
    '2024-03-10T12:34:56z',
    '2024-03-10T12.34.56Z',
    '2024-03-10T12:34:56.Z',
    '2024-03-10T12:34:56,123Z',
    '2024-03-10T12:34:56+05',
    '2024-03-10T12:34:56+5:45',
    '2024-03-10T12:34:56+05:4',
    '2024-03-10T12:34:56+05:450',
    '2024-03-10T12:34:56+05-45',
    '2024-03-10T12:34:56Z ',
    ' 2024-03-10T12:34:56Z',
    '2024-03-10T12:34:56ZZ',
    '2024-03-10T12:34:56 UTC',
    '2024-03-10T12:34:56GMT',
    '2024-03-10T12:34:56+05:45[Asia/Kathmandu]',
    '١٩٧٠-01-01T00:00:00Z',
    'Sun, 10 Mar 2024 12:34:56 GMT',
    '1710074096000',
  ];
  for (const text of malformed) {
    it(`rejects the malformed ${JSON.stringify(text)}`, () => {
      expect(parse(json({ event_ts: text }))).toEqual(
        bad('invalid_timestamp', `event_ts: ${quoted(text)} is not ISO-8601 YYYY-MM-DDTHH:MM:SS[.fff] with Z or ±HH:MM`),
      );
    });
  }

  it('clips a long malformed value in the detail', () => {
    const outcome = parse(json({ event_ts: `2024-03-10T12:34:56Z${'x'.repeat(100)}` }));
    expect(outcome).toEqual(
      bad(
        'invalid_timestamp',
        `event_ts: ${JSON.stringify(`2024-03-10T12:34:56Z${'x'.repeat(20)}…`)} is not ISO-8601 YYYY-MM-DDTHH:MM:SS[.fff] with Z or ±HH:MM`,
      ),
    );
  });

  const outOfRange: Array<[string, ParseOptions]> = [
    ['1969-12-31T23:59:59.999Z', OPTS],
    ['1970-01-01T00:30:00+01:00', OPTS],
    ['0000-01-01T00:00:00Z', OPTS],
    ['9999-12-31T23:59:59.999-00:01', FAR],
  ];
  for (const [text, opts] of outOfRange) {
    it(`rejects ${text} as out of range`, () => {
      expect(parse(json({ event_ts: text }), opts)).toEqual(
        bad('invalid_timestamp', `event_ts: ${JSON.stringify(text)} is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z`),
      );
    });
  }
});

describe('parseRawMessage: event_ts as a number', () => {
  it('reads integer epoch milliseconds', () => {
    expect(parse(json({ event_ts: 1_710_074_096_789 }))).toEqual(ok({ eventTs: 1_710_074_096_789 }));
    expect(parse(json({ event_ts: 0 }))).toEqual(ok({ eventTs: 0 }));
    expect(parse('{"event_id":"e-1","event_ts":1.710074096789e12,"session_id":"s-1","document_id":42,"title":"Sepsis guideline","clinical_area":"Cardiology"}')).toEqual(
      ok({ eventTs: 1_710_074_096_789 }),
    );
  });

  it('normalises -0 to 0', () => {
    const outcome = parse(json({ event_ts: -0 }).replace('"event_ts":0', '"event_ts":-0'));
    expect(outcome).toEqual(ok({ eventTs: 0 }));
    expect(outcome.ok && Object.is(outcome.event.eventTs, 0)).toBe(true);
  });

  it('rejects fractional milliseconds', () => {
    expect(parse(json({ event_ts: 1_710_074_096_789.5 }))).toEqual(
      bad('invalid_timestamp', 'event_ts: 1710074096789.5 is not a whole number of epoch milliseconds'),
    );
  });

  it('rejects instants before 1970 and after 9999', () => {
    expect(parse(json({ event_ts: -1 }))).toEqual(
      bad('invalid_timestamp', 'event_ts: -1 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
    expect(parse(json({ event_ts: MAX_EVENT_TS_MS }), FAR)).toEqual(ok({ eventTs: MAX_EVENT_TS_MS }));
    expect(parse(json({ event_ts: MAX_EVENT_TS_MS + 1 }), FAR)).toEqual(
      bad('invalid_timestamp', 'event_ts: 253402300800000 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
  });

  it('reads 2^53-1 exactly (and finds it out of range) but calls 2^53+1 unsafe', () => {
    expect(parse(json({ event_ts: Number.MAX_SAFE_INTEGER }), FAR)).toEqual(
      bad('invalid_timestamp', 'event_ts: 9007199254740991 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
    const text = json({ event_ts: 0 }).replace('"event_ts":0', '"event_ts":9007199254740993');
    expect(parse(text)).toEqual(
      bad('unsafe_number', 'event_ts: 9007199254740993 is beyond ±(2^53-1) and cannot be read exactly'),
    );
    const negative = json({ event_ts: 0 }).replace('"event_ts":0', '"event_ts":-9007199254740993');
    expect(parse(negative)).toEqual(
      bad('unsafe_number', 'event_ts: -9007199254740993 is beyond ±(2^53-1) and cannot be read exactly'),
    );
    const huge = json({ event_ts: 0 }).replace('"event_ts":0', '"event_ts":1e300');
    expect(parse(huge)).toEqual(bad('unsafe_number', 'event_ts: 1e300 is beyond ±(2^53-1) and cannot be read exactly'));
  });

  const wrong: Array<[unknown, string]> = [
    [true, 'boolean'],
    [null, 'null'],
    [{}, 'object'],
    [[2024, 3, 10], 'array'],
  ];
  for (const [value, type] of wrong) {
    it(`rejects ${JSON.stringify(value)} as wrong_type`, () => {
      expect(parse(json({ event_ts: value }))).toEqual(
        bad('wrong_type', `event_ts: expected an ISO-8601 string or epoch milliseconds, got ${type}`),
      );
    });
  }
});

describe('parseRawMessage: event_ts in records', () => {
  it('reads a Date', () => {
    expect(parse(record({ event_ts: new Date(Date.UTC(2024, 2, 10, 12, 34, 56, 789)) }))).toEqual(ok());
  });

  it('rejects an invalid Date and a Date out of range', () => {
    expect(parse(record({ event_ts: new Date(Number.NaN) }))).toEqual(bad('invalid_timestamp', 'event_ts: invalid Date'));
    expect(parse(record({ event_ts: new Date(-1) }))).toEqual(
      bad('invalid_timestamp', 'event_ts: -1 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
  });

  it('reads a bigint of milliseconds', () => {
    expect(parse(record({ event_ts: 1_710_074_096_789n }))).toEqual(ok({ eventTs: 1_710_074_096_789 }));
    expect(parse(record({ event_ts: 0n }))).toEqual(ok({ eventTs: 0 }));
    expect(parse(record({ event_ts: BigInt(MAX_EVENT_TS_MS) }), FAR)).toEqual(ok({ eventTs: MAX_EVENT_TS_MS }));
  });

  it('rejects a bigint out of range, exact so never unsafe', () => {
    expect(parse(record({ event_ts: -1n }))).toEqual(
      bad('invalid_timestamp', 'event_ts: -1 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
    expect(parse(record({ event_ts: 2n ** 64n }))).toEqual(
      bad('invalid_timestamp', 'event_ts: 18446744073709551616 is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z'),
    );
  });

  it('rejects NaN and infinities', () => {
    expect(parse(record({ event_ts: Number.NaN }))).toEqual(bad('invalid_timestamp', 'event_ts: NaN is not an instant'));
    expect(parse(record({ event_ts: Number.POSITIVE_INFINITY }))).toEqual(
      bad('unsafe_number', 'event_ts: Infinity is beyond ±(2^53-1) and cannot be read exactly'),
    );
  });

  it('reads strings and numbers as in JSON', () => {
    expect(parse(record({ event_ts: '2024-03-10T18:19:56.789+05:45' }))).toEqual(ok());
    expect(parse(record({ event_ts: Date.UTC(2024, 2, 10, 12, 34, 56, 789) }))).toEqual(ok());
  });

  it('rejects other object types as wrong_type', () => {
    expect(parse(record({ event_ts: { seconds: 1 } }))).toEqual(
      bad('wrong_type', 'event_ts: expected an ISO-8601 string or epoch milliseconds, got object'),
    );
  });
});

describe('parseRawMessage: document_id', () => {
  function withDocumentId(literal: string): string {
    return json({ document_id: 0 }).replace('"document_id":0', `"document_id":${literal}`);
  }

  const numbers: Array<[string, string]> = [
    ['0', '0'],
    ['-0', '0'],
    ['7', '7'],
    ['42.0', '42'],
    ['1e3', '1000'],
    ['9007199254740991', '9007199254740991'],
  ];
  for (const [literal, expected] of numbers) {
    it(`reads the JSON number ${literal} as "${expected}"`, () => {
      expect(parse(withDocumentId(literal))).toEqual(ok({ documentId: expected }));
    });
  }

  it('reads 2^53-1 as a number exactly', () => {
    expect(parse(json({ document_id: Number.MAX_SAFE_INTEGER }))).toEqual(ok({ documentId: '9007199254740991' }));
  });

  const unsafe: Array<[string, string]> = [
    ['9007199254740992', '9007199254740992'],
    ['9007199254740993', '9007199254740993'],
    ['9223372036854775807', '9223372036854775807'],
    ['1e20', '1e20'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
  ];
  for (const [literal, shown] of unsafe) {
    it(`dead-letters the JSON number ${literal} as unsafe_number, quoting the digits sent`, () => {
      expect(parse(withDocumentId(literal))).toEqual(
        bad('unsafe_number', `document_id: ${shown} exceeds 2^53-1 as a JSON number; send it as a decimal string`),
      );
    });
  }

  it('quotes the top-level digits even when a nested object has a document_id too', () => {
    const text = withDocumentId('9007199254740993').replace('"title"', '"meta":{"document_id":1},"title"');
    expect(parse(text)).toEqual(
      bad('unsafe_number', 'document_id: 9007199254740993 exceeds 2^53-1 as a JSON number; send it as a decimal string'),
    );
  });

  const invalidNumbers: Array<[string, string]> = [
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['-9007199254740993', '-9007199254740992'],
    ['0.1', '0.1'],
  ];
  for (const [literal, shown] of invalidNumbers) {
    it(`rejects the JSON number ${literal} as invalid_value`, () => {
      expect(parse(withDocumentId(literal))).toEqual(
        bad('invalid_value', `document_id: ${shown} is not a non-negative integer`),
      );
    });
  }

  const strings: Array<[string, string]> = [
    ['0', '0'],
    ['000', '0'],
    ['42', '42'],
    ['00042', '42'],
    ['9007199254740993', '9007199254740993'],
    ['9223372036854775807', '9223372036854775807'],
    ['0009223372036854775807', '9223372036854775807'],
    ['1000000000000000000', '1000000000000000000'],
    ['9223372036854775799', '9223372036854775799'],
  ];
  for (const [text, expected] of strings) {
    it(`reads the decimal string "${text}" as "${expected}"`, () => {
      expect(parse(json({ document_id: text }))).toEqual(ok({ documentId: expected }));
    });
  }

  const tooBig = ['9223372036854775808', '9999999999999999999', '10000000000000000000', '18446744073709551616'];
  for (const text of tooBig) {
    it(`rejects the decimal string "${text}" as beyond 2^63-1`, () => {
      expect(parse(json({ document_id: text }))).toEqual(
        bad('invalid_value', `document_id: "${text}" exceeds 2^63-1`),
      );
    });
  }

  it('rejects an empty string', () => {
    expect(parse(json({ document_id: '' }))).toEqual(bad('invalid_value', 'document_id: empty string'));
  });

  const notDecimal = ['-1', '+1', '1.0', '1e3', ' 1', '1 ', '0x1F', '１２', 'abc', '1_000'];
  for (const text of notDecimal) {
    it(`rejects the string ${JSON.stringify(text)} as not decimal`, () => {
      expect(parse(json({ document_id: text }))).toEqual(
        bad('invalid_value', `document_id: ${JSON.stringify(text)} is not a decimal integer`),
      );
    });
  }

  const wrong: Array<[unknown, string]> = [
    [null, 'null'],
    [true, 'boolean'],
    [{ id: 1 }, 'object'],
    [[1], 'array'],
  ];
  for (const [value, type] of wrong) {
    it(`rejects ${JSON.stringify(value)} as wrong_type`, () => {
      expect(parse(json({ document_id: value }))).toEqual(
        bad('wrong_type', `document_id: expected an integer or a decimal string, got ${type}`),
      );
    });
  }

  describe('in records', () => {
    it('reads a bigint exactly', () => {
      expect(parse(record({ document_id: 5n }))).toEqual(ok({ documentId: '5' }));
      expect(parse(record({ document_id: 0n }))).toEqual(ok({ documentId: '0' }));
      expect(parse(record({ document_id: 9_223_372_036_854_775_807n }))).toEqual(
        ok({ documentId: '9223372036854775807' }),
      );
    });

    it('rejects a bigint outside 0 … 2^63-1', () => {
      expect(parse(record({ document_id: 9_223_372_036_854_775_808n }))).toEqual(
        bad('invalid_value', 'document_id: 9223372036854775808 is outside 0 … 2^63-1'),
      );
      expect(parse(record({ document_id: -1n }))).toEqual(bad('invalid_value', 'document_id: -1 is outside 0 … 2^63-1'));
    });

    it('treats a number above 2^53-1 as unsafe without claiming it was JSON', () => {
      expect(parse(record({ document_id: 2 ** 53 }))).toEqual(
        bad('unsafe_number', 'document_id: 9007199254740992 exceeds 2^53-1 as a number; send it as a decimal string'),
      );
    });

    it('rejects NaN and infinities', () => {
      expect(parse(record({ document_id: Number.NaN }))).toEqual(
        bad('invalid_value', 'document_id: NaN is not a non-negative integer'),
      );
      expect(parse(record({ document_id: Number.POSITIVE_INFINITY }))).toEqual(
        bad('invalid_value', 'document_id: Infinity is not a non-negative integer'),
      );
    });
  });
});

describe('parseRawMessage: title', () => {
  it('accepts null, empty and up to 1000 characters', () => {
    expect(parse(json({ title: null }))).toEqual(ok({ title: null }));
    expect(parse(json({ title: '' }))).toEqual(ok({ title: '' }));
    expect(parse(json({ title: 't'.repeat(1000) }))).toEqual(ok({ title: 't'.repeat(1000) }));
    expect(parse(json({ title: '🩺'.repeat(1000) }))).toEqual(ok({ title: '🩺'.repeat(1000) }));
  });

  it('rejects 1001 characters', () => {
    expect(parse(json({ title: 't'.repeat(1001) }))).toEqual(
      bad('invalid_value', 'title: 1001 characters; at most 1000 allowed'),
    );
    expect(parse(json({ title: '🩺'.repeat(1001) }))).toEqual(
      bad('invalid_value', 'title: 1001 characters; at most 1000 allowed'),
    );
  });

  it('rejects other types', () => {
    expect(parse(json({ title: 5 }))).toEqual(bad('wrong_type', 'title: expected a string or null, got number'));
    expect(parse(json({ title: ['a'] }))).toEqual(bad('wrong_type', 'title: expected a string or null, got array'));
  });

  it('rejects U+0000', () => {
    expect(parse(json({ title: 'a\u0000' }))).toEqual(
      bad('invalid_value', 'title: contains U+0000, which PostgreSQL text cannot store'),
    );
  });
});

describe('parseRawMessage: clinical_area', () => {
  it("maps null and '' to 'unknown'", () => {
    expect(parse(json({ clinical_area: null }))).toEqual(ok({ clinicalArea: 'unknown' }));
    expect(parse(json({ clinical_area: '' }))).toEqual(ok({ clinicalArea: 'unknown' }));
  });

  it('keeps any other string exactly, up to 200 characters', () => {
    expect(parse(json({ clinical_area: ' ' }))).toEqual(ok({ clinicalArea: ' ' }));
    expect(parse(json({ clinical_area: 'a'.repeat(200) }))).toEqual(ok({ clinicalArea: 'a'.repeat(200) }));
    expect(parse(json({ clinical_area: '😀'.repeat(200) }))).toEqual(ok({ clinicalArea: '😀'.repeat(200) }));
  });

  it('rejects 201 characters', () => {
    expect(parse(json({ clinical_area: 'a'.repeat(201) }))).toEqual(
      bad('invalid_value', 'clinical_area: 201 characters; at most 200 allowed'),
    );
    expect(parse(json({ clinical_area: '😀'.repeat(201) }))).toEqual(
      bad('invalid_value', 'clinical_area: 201 characters; at most 200 allowed'),
    );
  });

  it('rejects other types', () => {
    expect(parse(json({ clinical_area: false }))).toEqual(
      bad('wrong_type', 'clinical_area: expected a string or null, got boolean'),
    );
  });
});

describe('parseRawMessage: future timestamps', () => {
  it('accepts up to nowMs + maxFutureSkewMs and rejects beyond', () => {
    const limit = NOW + 300_000;
    expect(parse(json({ event_ts: limit }))).toEqual(ok({ eventTs: limit }));
    expect(parse(json({ event_ts: limit + 1 }))).toEqual(
      bad(
        'future_timestamp',
        'event_ts: 2030-01-01T00:05:00.001Z is more than 300000 ms ahead of the processor clock (2030-01-01T00:00:00.000Z)',
      ),
    );
  });

  it('applies to string timestamps after offset conversion', () => {
    expect(reasonOf(parse(json({ event_ts: '2030-01-01T05:50:00+05:45' })))).toBe('ok');
    expect(reasonOf(parse(json({ event_ts: '2030-01-01T05:50:00.001+05:45' })))).toBe('future_timestamp');
  });

  it('is checked after every field', () => {
    expect(parse(json({ event_ts: '2099-01-01T00:00:00Z', clinical_area: 7 }))).toEqual(
      bad('wrong_type', 'clinical_area: expected a string or null, got number'),
    );
  });

  it('honours a zero skew', () => {
    expect(reasonOf(parse(json({ event_ts: NOW }), { nowMs: NOW, maxFutureSkewMs: 0 }))).toBe('ok');
    expect(reasonOf(parse(json({ event_ts: NOW + 1 }), { nowMs: NOW, maxFutureSkewMs: 0 }))).toBe('future_timestamp');
  });
});

describe('parseRawMessage: purity', () => {
  it('does not mutate a record and returns a fresh event each call', () => {
    const input = record();
    const snapshot = { ...input };
    const a = parse(input);
    const b = parse(input);
    expect(input).toEqual(snapshot);
    expect(a).toEqual(b);
    expect(a.ok && b.ok && a.event !== b.event).toBe(true);
  });
});
