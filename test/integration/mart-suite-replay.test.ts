// Acceptance: the mart suite's event set through `tidemark replay` (the real CLI) on each
// database. All four hot marts equal the reference evaluator on the on-time events, row for row,
// and dead_letter_events / late_events hold exactly the expected messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createPgliteDatabase } from '../../src/io/db/pglite-database.ts';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { evaluateHotMarts } from '../../src/marts/reference-evaluator.ts';
import { buildMartSuite } from '../fixtures/mart-suite.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import { readHotMarts } from '../support/read-hot-marts.ts';
import { runCli } from '../support/run-cli.ts';
import { storedRawText } from '../support/stream-harness.ts';

const suite: MartSuite = buildMartSuite();
const expectedMarts = evaluateHotMarts(suite.expected.onTimeEvents, suite.settings);

/** Anomaly alerts are warnings on stderr; anything else there is a failure. */
function unexpectedStderr(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !line.includes('"msg":"anomaly alert"'));
}

function alertCount(stderr: string): number {
  return stderr.split('\n').filter((line) => line.includes('"msg":"anomaly alert"')).length;
}

function suiteEnv(): Record<string, string> {
  return {
    MART_TIMEZONE: suite.settings.timeZone,
    WATERMARK_DELAY: `${suite.watermarkDelayMs}ms`,
    MAX_FUTURE_SKEW: `${suite.maxFutureSkewMs}ms`,
    STREAM_BATCH_MAX_MESSAGES: '1000',
    LOG_LEVEL: 'warn',
  };
}

let file = '';
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-suite-'));
  file = join(dir, 'mart-suite.jsonl');
  writeFileSync(file, `${suite.lines.join('\n')}\n`);
});

async function checkDatabase(db: Database): Promise<void> {
  expect(await readHotMarts(db)).toEqual(expectedMarts);
  const dead = await db.query<{ o: string; reason: string; raw: string | null; size: string }>(
    `SELECT kafka_offset::text AS o, reason, raw_text AS raw, raw_size::text AS size FROM dead_letter_events ORDER BY kafka_offset`,
  );
  expect(dead.rows.map((r) => ({ line: Number(r.o), reason: r.reason }))).toEqual(
    [...suite.expected.deadLetters].sort((a, b) => a.line - b.line),
  );
  // The raw message is kept as it arrived (its first 64 KiB), with its size.
  for (const row of dead.rows) {
    expect(row.raw).toBe(storedRawText(suite.lines[Number(row.o)]!));
    expect(Number(row.size)).toBe(Buffer.byteLength(suite.lines[Number(row.o)]!));
  }
  const late = await db.query<{ o: string }>(`SELECT kafka_offset::text AS o FROM late_events ORDER BY kafka_offset`);
  expect(late.rows.map((r) => Number(r.o))).toEqual([...suite.expected.lateLines].sort((a, b) => a - b));
}

describe('mart suite through `tidemark replay`', () => {
  const pg = testDatabaseFactories().find((f) => f.kind === 'pg');
  if (pg !== undefined) {
    describe('PostgreSQL', () => {
      let t: Awaited<ReturnType<typeof pg.create>> | undefined;
      afterAll(async () => t?.dispose());
      it('hot marts, dead letters and late events are exact; a second replay changes nothing', async () => {
        t = await pg.create({ migrate: false });
        const env = { ...suiteEnv(), DATABASE_URL: t.url ?? '' };
        const first = await runCli(['replay', file], env);
        expect(unexpectedStderr(first.stderr)).toEqual([]);
        expect(first.code).toBe(0);
        // One alert per episode and severity: 3 WARNING-only episodes, 2 that escalated.
        expect(alertCount(first.stderr)).toBe(expectedMarts.anomalies.length + expectedMarts.anomalies.filter((a) => a.severity === 'CRITICAL').length);
        await checkDatabase(t.db);
        const again = await runCli(['replay', file], env);
        expect(again.code).toBe(0);
        expect(alertCount(again.stderr)).toBe(0);
        await checkDatabase(t.db);
      });
    });
  }

  if (pg !== undefined) {
    describe('Parquet file on PostgreSQL', () => {
      let t: Awaited<ReturnType<typeof pg.create>> | undefined;
      afterAll(async () => t?.dispose());
      it('the valid events as Parquet give the same hot marts and late events', async () => {
        // Parquet holds only well-formed records: the dead letters stay behind, everything else
        // (duplicates, late events) keeps its arrival order.
        const dead = new Set(suite.expected.deadLetters.map((d) => d.line));
        const events = suite.lines.flatMap((line, i) => {
          if (dead.has(i)) return [];
          const parsed = parseRawMessage(line, { nowMs: Date.now(), maxFutureSkewMs: suite.maxFutureSkewMs });
          return parsed.ok ? [parsed.event] : [];
        });
        const parquet = join(mkdtempSync(join(tmpdir(), 'tidemark-parquet-')), 'suite.parquet');
        writeFileSync(parquet, encodeEventsToParquet(events, { rowGroupSize: 5000 }));
        t = await pg.create({ migrate: false });
        const result = await runCli(['replay', parquet], { ...suiteEnv(), DATABASE_URL: t.url ?? '' });
        expect(unexpectedStderr(result.stderr)).toEqual([]);
        expect(result.code).toBe(0);
        expect(await readHotMarts(t.db)).toEqual(expectedMarts);
        const late = await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM late_events`);
        expect(Number(late.rows[0]?.n)).toBe(suite.expected.lateLines.length);
      });
    });
  }

  describe('embedded PGlite', () => {
    it('hot marts, dead letters and late events are exact', async () => {
      const home = mkdtempSync(join(tmpdir(), 'tidemark-home-'));
      const result = await runCli(['replay', file], { ...suiteEnv(), TIDEMARK_HOME: home });
      expect(unexpectedStderr(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      const db = await createPgliteDatabase(join(home, 'db'));
      try {
        await checkDatabase(db);
      } finally {
        await db.close();
      }
    });
  });
});
