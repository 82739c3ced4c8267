// The embedded database runs no autovacuum, so tidemark vacuums it itself: the stream after an
// amount of committed change (batches or messages, never a wall-clock timer, so that a catch-up
// over days of backlog is vacuumed as often per change as a live trickle), and retention each
// table it deleted rows from.
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createGeneratorSource } from '../../src/io/generator/generator-source.ts';
import { createLogger } from '../../src/io/log.ts';
import type { MessageSource } from '../../src/io/source.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import type { MaintenanceCadence } from '../../src/io/stream-runner.ts';
import { runRetention } from '../../src/jobs/retention.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';
import { seedAgedRows } from '../support/cold-path-fixtures.ts';
import { testDatabaseFactories } from '../support/databases.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 7, 12, 0, 0);
const SETTINGS = { marts: DEFAULT_MART_SETTINGS, watermarkDelayMs: 10 * MIN, maxFutureSkewMs: 5 * MIN, idlePartitionTimeoutMs: 60_000 };
const pglite = testDatabaseFactories().find((f) => f.kind === 'pglite')!;
const log = createLogger('error');

/** The real database, with every VACUUM statement handed to `noted`. */
function tracing(db: Database, noted: (sql: string) => void): Database {
  return {
    ...db,
    query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      if (sql.startsWith('VACUUM')) noted(sql);
      return db.query<Row>(sql, params);
    },
  };
}

/** Runs 600 generated messages in batches of `batch`; the trace interleaves `read N`, `commit` and `vacuum`. */
async function run(cadence: MaintenanceCadence, batch: number): Promise<string[]> {
  const t = await pglite.create();
  try {
    const trace: string[] = [];
    const generated = createGeneratorSource('maintenance', 600, { startMs: T0, eventsPerSecond: 2, seed: 3 });
    const source: MessageSource = {
      ...generated,
      async poll(max, wait) {
        const polled = await generated.poll(max, wait);
        if (polled.kind === 'messages') trace.push(`read ${polled.messages.length}`);
        return polled;
      },
    };
    await runStream({
      // The full pass names the pending events; the frequent one only the checkpoint rows.
      db: tracing(t.db, (sql) => trace.push(sql.includes('stream_pending_batches') ? 'vacuum' : 'vacuum checkpoint')),
      source,
      consumer: 'maintenance',
      settings: SETTINGS,
      batchMaxMessages: batch,
      batchMaxWaitMs: 0,
      log,
      maintenanceEvery: cadence,
      onCommit: () => trace.push('commit'),
    });
    return trace;
  } finally {
    await t.dispose();
  }
}

/** Per stretch between two vacuums of a kind (the last one, cut short by the end, left out): what it counted. */
function stretches(trace: readonly string[], count: (entry: string) => number, kinds: readonly string[] = ['vacuum']): number[] {
  const out: number[] = [];
  let n = 0;
  for (const entry of trace) {
    if (kinds.includes(entry)) {
      out.push(n);
      n = 0;
    } else n += count(entry);
  }
  return out;
}

const NEVER = 1_000_000;
const commits = (e: string): number => (e === 'commit' ? 1 : 0);

describe('embedded maintenance', () => {
  it('the stream vacuums after every N committed batches', async () => {
    const trace = await run({ batches: 4, messages: NEVER, checkpointBatches: NEVER }, 20);
    // The assignment's commit, 30 batches of messages, and the end's final windows.
    expect(trace.filter(commits).length).toBe(32);
    expect(stretches(trace, commits)).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(trace).not.toContain('vacuum checkpoint');
  });

  it('the checkpoint rows are vacuumed more often, the full pass counting as one', async () => {
    const trace = await run({ batches: 9, messages: NEVER, checkpointBatches: 2 }, 20);
    expect(stretches(trace, commits)).toEqual([9, 9, 9]);
    expect(stretches(trace, commits, ['vacuum', 'vacuum checkpoint'])).toEqual([2, 2, 2, 2, 1, 2, 2, 2, 2, 1, 2, 2, 2, 2, 1, 2, 2]);
  });

  it('the stream vacuums after every M messages read, however they are batched', async () => {
    const trace = await run({ batches: NEVER, messages: 100, checkpointBatches: NEVER }, 30);
    expect(stretches(trace, (e) => (e.startsWith('read ') ? Number(e.slice(5)) : 0))).toEqual([120, 120, 120, 120, 120]);
  });

  it('retention vacuums each table it deleted rows from, when asked to', async () => {
    const t = await pglite.create();
    try {
      const now = Date.UTC(2026, 5, 1);
      await seedAgedRows(t.db, now);
      const vacuums: string[] = [];
      const db = tracing(t.db, (sql) => vacuums.push(sql));
      const deps = { db, clock: () => now, log };
      await runRetention(deps, { hotRetentionDays: 7, dryRun: false, vacuum: true });
      expect(vacuums).toEqual([
        'VACUUM mart_realtime_traffic_minute',
        'VACUUM mart_realtime_top_docs_1h',
        'VACUUM mart_realtime_clinical_trend_24h',
        'VACUUM mart_realtime_anomaly_sessions',
        'VACUUM dead_letter_events',
        'VACUUM late_events',
        'VACUUM anomaly_alerts',
      ]);
      // Nothing left to delete: nothing to vacuum.
      await runRetention(deps, { hotRetentionDays: 7, dryRun: false, vacuum: true });
      expect(vacuums).toHaveLength(7);
    } finally {
      await t.dispose();
    }
  });
});
