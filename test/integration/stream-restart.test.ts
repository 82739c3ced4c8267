// Restarting from the checkpoint at many points gives the same hot marts as one uninterrupted
// run: the state (buckets, pending events, anomaly prefixes, watermark) really is in the database.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createLogger } from '../../src/io/log.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import type { ClickEvent } from '../../src/marts/types.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 7, 12, 0, 0);
const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 10 * MIN, maxFutureSkewMs: 5 * MIN, idlePartitionTimeoutMs: 60_000 };

/** 30 h of traffic (so the 24 h clinical window fills) with a burst session every few hours. */
function events(): ClickEvent[] {
  const out: ClickEvent[] = [];
  let seed = 1;
  const next = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 4000; i++) {
    const base = T0 + i * 27_000;
    out.push({
      eventId: `e${i}`,
      eventTs: base - Math.floor(next() * 90_000),
      sessionId: `s${Math.floor(next() * 30)}`,
      documentId: String(Math.floor(next() * next() * 40)),
      title: next() < 0.3 ? null : `t${i % 7}`,
      clinicalArea: ['a', 'b', 'c', 'unknown'][Math.floor(next() * 4)]!,
    });
    if (i % 700 === 350) for (let k = 0; k < 55; k++) out.push({ eventId: `b${i}-${k}`, eventTs: base + k * 3000, sessionId: `bot${i}`, documentId: '7', title: 'bot', clinicalArea: 'a' });
  }
  return out;
}

function toLine(e: ClickEvent): string {
  return JSON.stringify({ event_id: e.eventId, event_ts: e.eventTs, session_id: e.sessionId, document_id: e.documentId, title: e.title, clinical_area: e.clinicalArea === 'unknown' ? '' : e.clinicalArea });
}

for (const factory of testDatabaseFactories()) {
  describe(`stream restart from checkpoint (${factory.label})`, () => {
    it('stopping after every few batches changes nothing', async () => {
      const all = events();
      const file = join(mkdtempSync(join(tmpdir(), 'tidemark-restart-')), 'events.jsonl');
      writeFileSync(file, `${all.map(toLine).join('\n')}\n`);
      const t = await factory.create();
      try {
        const log = createLogger('error');
        let runs = 0;
        for (;;) {
          runs++;
          const stop = new AbortController();
          let commits = 0;
          const summary = await runStream({
            db: t.db,
            source: createJsonLinesSource(file),
            consumer: 'restart-test',
            settings: SETTINGS,
            batchMaxMessages: 97,
            batchMaxWaitMs: 10,
            log,
            clock: () => Date.UTC(2026, 10, 24),
            signal: stop.signal,
            onCommit: () => {
              if (++commits === 7) stop.abort();
            },
          });
          if (summary.ended === 'source-exhausted') break;
        }
        expect(runs).toBeGreaterThan(5);
        expect(await readHotMarts(t.db)).toEqual(evaluateHotMarts(all, DEFAULT_MART_SETTINGS));
        const pending = await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM stream_pending_batches');
        expect(pending.rows[0]?.n).toBe('0');
      } finally {
        await t.dispose();
      }
    });
  });
}
