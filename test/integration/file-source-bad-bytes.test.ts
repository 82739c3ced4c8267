// Whatever bytes a JSON Lines file holds, a replay dead-letters the bad lines, counts every valid
// event once and finishes: a NUL byte cannot fail the dead-letter insert, invalid UTF-8 is
// dead-lettered exactly as Kafka would (never replaced by U+FFFD), only \n and \r\n end a line,
// and a line far past the limit is stored as a bounded prefix with its size.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createJsonLinesSource, readLineBytes } from '../../src/io/file/json-lines-source.ts';
import { createLogger } from '../../src/io/log.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import type { StreamRunSummary } from '../../src/io/stream-runner.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { DEFAULT_MART_SETTINGS, OversizedMessage } from '../../src/marts/types.ts';
import { testDatabaseFactories } from '../support/databases.ts';

const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 };
const NOW = Date.UTC(2026, 0, 11);

function eventBytes(id: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ event_id: id, event_ts: '2026-01-10T10:00:00Z', session_id: 's1', document_id: 1, title: 't', clinical_area: 'a', ...extra }));
}

function fileOf(lines: readonly Buffer[], ending = '\n'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tidemark-bad-bytes-')), 'events.jsonl');
  writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from(ending)])));
  return file;
}

async function replay(db: Database, file: string, deadLetterMaxBytes?: number): Promise<StreamRunSummary> {
  return runStream({
    db,
    source: createJsonLinesSource(file, () => NOW, deadLetterMaxBytes === undefined ? {} : { deadLetterMaxBytes }),
    consumer: 'bad-bytes',
    settings: SETTINGS,
    batchMaxMessages: 50,
    batchMaxWaitMs: 10,
    log: createLogger('error'),
    clock: () => NOW,
    ...(deadLetterMaxBytes === undefined ? {} : { deadLetterMaxBytes }),
  });
}

interface DeadRow {
  kafka_offset: string;
  reason: string;
  raw_hex: string | null;
  raw_text: string | null;
  raw_size: string | null;
}

async function deadLetters(db: Database): Promise<DeadRow[]> {
  const r = await db.query<DeadRow>(
    `SELECT kafka_offset::text, reason, encode(raw_bytes, 'hex') AS raw_hex, raw_text, raw_size::text FROM dead_letter_events ORDER BY kafka_offset`,
  );
  return r.rows;
}

async function clicks(db: Database): Promise<number> {
  const r = await db.query<{ n: string | null }>('SELECT sum(total_clicks)::text AS n FROM mart_realtime_traffic_minute');
  return Number(r.rows[0]?.n ?? 0);
}

describe('JSON Lines line splitting', () => {
  it('ends lines at \\n and \\r\\n only, and cuts a huge line to its prefix without building it', async () => {
    const huge = 3 * 1024 * 1024 + 17;
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-lines-')), 'lines.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from('a\rb\u2028c\r\n\r\nd\n'), Buffer.alloc(huge, 0x78), Buffer.from('\r\ne\r')]));
    const lines: Uint8Array[] = [];
    for await (const chunk of readLineBytes(file, 10)) lines.push(...chunk);
    expect(lines.map((l) => (l instanceof OversizedMessage ? `oversized ${l.originalBytes}: ${Buffer.from(l).toString()}` : Buffer.from(l).toString()))).toEqual([
      'a\rb\u2028c',
      '',
      'd',
      `oversized ${huge}: xxxxxxxxxx`,
      'e\r',
    ]);
  });
});

for (const factory of testDatabaseFactories()) {
  describe(`JSON Lines bad bytes (${factory.label})`, () => {
    it('dead-letters a line with a raw NUL byte, and the rerun finishes too', async () => {
      const t = await factory.create();
      try {
        const nul = Buffer.from('{"event_id": "x\u0000y", oops\u0000}');
        const file = fileOf([eventBytes('e1'), nul, eventBytes('e2')]);
        const first = await replay(t.db, file);
        expect([first.applied, first.deadLetters]).toEqual([2, 1]);
        const rows = await deadLetters(t.db);
        expect(rows.map((r) => [r.kafka_offset, r.reason, r.raw_hex, r.raw_size])).toEqual([['1', 'invalid_json', nul.toString('hex'), String(nul.length)]]);
        expect(rows[0]?.raw_text).toBe('{"event_id": "x\uFFFDy", oops\uFFFD}');
        const detail = await t.db.query<{ detail: string }>('SELECT detail FROM dead_letter_events');
        expect(detail.rows[0]?.detail).not.toContain('\u0000');
        const second = await replay(t.db, file);
        expect([second.applied, second.deadLetters, second.ended]).toEqual([0, 0, 'source-exhausted']);
        expect(await clicks(t.db)).toBe(2);
      } finally {
        await t.dispose();
      }
    });

    it('dead-letters invalid UTF-8 as invalid_encoding, as Kafka does, and never merges ids', async () => {
      const t = await factory.create();
      try {
        const bad1 = Buffer.concat([Buffer.from('{"event_id": "id-'), Buffer.from([0xff]), Buffer.from('", "event_ts": "2026-01-10T10:00:00Z", "session_id": "s1", "document_id": 1, "title": null, "clinical_area": null}')]);
        const bad2 = Buffer.from(bad1.toString('latin1').replace('\u00ff', '\u00fe'), 'latin1');
        const overlong = Buffer.concat([eventBytes('e2').subarray(0, 20), Buffer.from([0xc0, 0xaf]), eventBytes('e2').subarray(20)]);
        const file = fileOf([eventBytes('e1'), bad1, bad2, overlong]);
        const summary = await replay(t.db, file);
        expect([summary.applied, summary.duplicates, summary.deadLetters]).toEqual([1, 0, 3]);
        const rows = await deadLetters(t.db);
        expect(rows.map((r) => [r.kafka_offset, r.reason, r.raw_hex, r.raw_text])).toEqual([
          ['1', 'invalid_encoding', bad1.toString('hex'), null],
          ['2', 'invalid_encoding', bad2.toString('hex'), null],
          ['3', 'invalid_encoding', overlong.toString('hex'), null],
        ]);
        // The Kafka source hands the same bytes to the same contract.
        for (const bytes of [bad1, bad2, overlong]) expect(parseRawMessage(bytes, { nowMs: NOW, maxFutureSkewMs: 0 })).toMatchObject({ ok: false, reason: 'invalid_encoding' });
      } finally {
        await t.dispose();
      }
    });

    it('keeps U+2028, U+2029 in a JSON string and a lone CR between its tokens in one event, with \\r\\n endings', async () => {
      const t = await factory.create();
      try {
        // JSON allows U+2028 and U+2029 raw inside strings, and CR as whitespace between tokens.
        const lines = [eventBytes('e1', { title: 'a\u2028b' }), eventBytes('e2', { title: 'c\u2029d' }), Buffer.from(eventBytes('e3').toString().replace(',"title"', ',\r"title"'))];
        const summary = await replay(t.db, fileOf(lines, '\r\n'));
        expect([summary.messages, summary.applied, summary.deadLetters]).toEqual([3, 3, 0]);
        expect(await clicks(t.db)).toBe(3);
      } finally {
        await t.dispose();
      }
    });

    it('dead-letters a line past the limit as too_large with a bounded prefix and its size', async () => {
      const t = await factory.create();
      try {
        const big = Buffer.concat([Buffer.from('{"event_id": "'), Buffer.alloc(5 * 1024 * 1024, 0x61), Buffer.from('"}')]);
        const kafkaSized = Buffer.concat([Buffer.from('{"x": "'), Buffer.alloc(70_000, 0x62), Buffer.from('"}')]);
        const file = fileOf([eventBytes('e1'), big, kafkaSized, eventBytes('e2')]);
        const summary = await replay(t.db, file, 1000);
        expect([summary.applied, summary.deadLetters]).toEqual([2, 2]);
        const rows = await deadLetters(t.db);
        expect(rows.map((r) => [r.kafka_offset, r.reason, r.raw_hex, r.raw_text, r.raw_size])).toEqual([
          ['1', 'too_large', big.subarray(0, 1000).toString('hex'), big.subarray(0, 1000).toString(), String(big.length)],
          ['2', 'too_large', kafkaSized.subarray(0, 1000).toString('hex'), kafkaSized.subarray(0, 1000).toString(), String(kafkaSized.length)],
        ]);
      } finally {
        await t.dispose();
      }
    });
  });
}
