// A 600 MiB line in a JSON Lines file: the reader streams over it (never builds it), so the
// replay dead-letters it as too_large with a 64 KiB prefix and its size, applies the events
// around it, and the process stays far below the line's size. Its own file, so that the peak
// RSS measured is this test's alone.
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createLogger } from '../../src/io/log.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import { testDatabaseFactories } from '../support/databases.ts';

const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 600_000, maxFutureSkewMs: 300_000, idlePartitionTimeoutMs: 60_000 };
const NOW = Date.UTC(2026, 0, 11);

function eventBytes(id: string): Buffer {
  return Buffer.from(JSON.stringify({ event_id: id, event_ts: '2026-01-10T10:00:00Z', session_id: 's1', document_id: 1, title: 't', clinical_area: 'a' }));
}

describe('a 600 MiB line', () => {
  it('is dead-lettered as too_large with a 64 KiB prefix, the events around it applied, memory bounded', async () => {
    const factory = testDatabaseFactories().at(-1)!;
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-huge-')), 'huge.jsonl');
    const fd = openSync(file, 'w');
    const size = 600 * 1024 * 1024;
    writeSync(fd, eventBytes('e1'));
    writeSync(fd, '\n');
    const block = Buffer.alloc(8 * 1024 * 1024, 0x7a);
    for (let written = 0; written < size; written += block.length) writeSync(fd, block);
    writeSync(fd, '\n');
    writeSync(fd, eventBytes('e2'));
    writeSync(fd, '\n');
    closeSync(fd);
    const t = await factory.create();
    try {
      const summary = await runStream({
        db: t.db,
        source: createJsonLinesSource(file, () => NOW),
        consumer: 'huge',
        settings: SETTINGS,
        batchMaxMessages: 50,
        batchMaxWaitMs: 10,
        log: createLogger('error'),
        clock: () => NOW,
      });
      expect([summary.applied, summary.deadLetters]).toEqual([2, 1]);
      const rows = await t.db.query<{ kafka_offset: string; reason: string; n: number; raw_size: string }>(
        'SELECT kafka_offset::text, reason, length(raw_bytes) AS n, raw_size::text FROM dead_letter_events',
      );
      expect(rows.rows.map((r) => [r.kafka_offset, r.reason, r.n, r.raw_size])).toEqual([['1', 'too_large', 65_536, String(size)]]);
      // Building the line would take 600 MiB at least (1.2 GiB as a string); streaming over it
      // holds a few chunks. maxRSS is this test process's peak, in KiB.
      expect(process.resourceUsage().maxRSS * 1024).toBeLessThan(500 * 1024 * 1024);
    } finally {
      await t.dispose();
    }
  });
});
