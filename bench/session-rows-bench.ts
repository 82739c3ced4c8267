// Bytes per mart_session_analysis row on PGlite, the embedded demo's database, before and after
// db/migrations/050 narrowed the table. Cold marts are kept for ever (SPEC §6), so this row size
// times the sessions of a day is what the demo's data folder grows by every day for this table.
//
//   npm run bench:session-rows -- [--sessions 965000] [--days 2]
//
// Two in-memory databases, each given `days` days of `sessions` sessions the way the cold step
// writes them (one transaction per day: the day's DELETE and the store's chunked bulk insert,
// rows sorted by session_id, ids like the demo's generator makes: 's-1000001'…):
//   before     migrated up to 040 (001's layout with computed_at, the key of 009); then migrated
//              to the end, which shows what 050 makes of existing rows and how long it takes
//   after      migrated to the end (050's layout) before the rows are written
// Printed per database: the main fork of the heap and of the key's B-tree after each day (MB =
// 10^6 bytes), and the last day's growth per row and per 965k sessions (the demo's day) both in
// MB and in MiB (2^20 bytes, the unit bench/embedded-bench.ts reports).
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SESSION_CHUNK_ROWS } from '../src/batch/cold-day-accumulator.ts';
import type { Database } from '../src/io/db/database.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../src/io/db/migrate.ts';
import { createPgliteDatabase } from '../src/io/db/pglite-database.ts';
import { deleteColdDay, insertColdRows } from '../src/io/mart-store/cold-mart-store.ts';
import { defineRegistry, MART_REGISTRY } from '../src/marts/mart-registry.ts';
import type { MartRegistry } from '../src/marts/mart-registry.ts';
import type { ColdMartChunks, SessionAnalysisRow } from '../src/marts/types.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '965000' }, days: { type: 'string', default: '2' } } });
const SESSIONS = Number(values.sessions);
const DAYS = Number(values.days);
const CHUNK = SESSION_CHUNK_ROWS;
const FIRST_DAY = Date.UTC(2026, 4, 12);
const DAY_MS = 86_400_000;

interface Sizes {
  readonly heap: number;
  readonly key: number;
}

async function sizes(db: Database): Promise<Sizes> {
  const { rows } = await db.query<{ heap: string; key: string }>(
    `SELECT pg_relation_size('mart_session_analysis')::text AS heap, pg_relation_size('mart_session_analysis_pkey')::text AS key`,
  );
  return { heap: Number(rows[0]?.heap), key: Number(rows[0]?.key) };
}

/** A day's sessions, sorted by session_id; counts and instants vary like the demo's, the widths are what matter. */
function* sessionChunks(day: number): Generator<SessionAnalysisRow[]> {
  const date = new Date(FIRST_DAY + day * DAY_MS).toISOString().slice(0, 10);
  const start = FIRST_DAY + day * DAY_MS;
  for (let from = 0; from < SESSIONS; from += CHUNK) {
    const chunk: SessionAnalysisRow[] = [];
    for (let i = from; i < Math.min(SESSIONS, from + CHUNK); i++) {
      const clicks = 1 + ((i * 7919) % 8);
      const duration = (i * 104_729) % 1800;
      const first = start + Math.floor((i * (DAY_MS - 1_800_000)) / SESSIONS);
      chunk.push({
        sessionId: `s-${1_000_001 + day * SESSIONS + i}`,
        eventDate: date,
        clickCount: clicks,
        uniqueDocs: 1 + (i % clicks),
        firstClickTs: first,
        lastClickTs: first + duration * 1000,
        sessionDurationSec: duration,
      });
    }
    yield chunk;
  }
}

/**
 * The registry as it was before 050: the sessions' table kept computed_at and a written
 * session_duration_sec. The current registry leaves that column to the table (generated).
 */
const BEFORE_050: MartRegistry = defineRegistry({
  ...MART_REGISTRY,
  marts: MART_REGISTRY.marts.map((mart) =>
    mart.table !== 'mart_session_analysis' || mart.kind !== 'cold'
      ? mart
      : { ...mart, computedAt: true, values: mart.values.map((c) => (c.generated === true ? { column: c.column, field: c.field, type: c.type } : c)) },
  ),
});

async function writeDay(db: Database, day: number, registry: MartRegistry): Promise<void> {
  const rows: ColdMartChunks = { sessionCount: SESSIONS, sessionChunks: sessionChunks(day), dailyTraffic: [], clinicalAreas: [], popularDocuments: [] };
  const date = new Date(FIRST_DAY + day * DAY_MS).toISOString().slice(0, 10);
  await db.transaction(async (tx) => {
    await deleteColdDay(tx, date, registry);
    await insertColdRows(tx, rows, undefined, registry);
  });
}

function perRow(bytes: number): string {
  return (bytes / SESSIONS).toFixed(1);
}

/** Bytes for `SESSIONS` rows scaled to the demo's 965k sessions a day: 'MB / MiB'. */
function demoDay(bytes: number): string {
  const scaled = (bytes / SESSIONS) * 965_000;
  return `${(scaled / 1e6).toFixed(1)} / ${(scaled / 2 ** 20).toFixed(1)}`;
}

function report(label: string, history: readonly Sizes[]): void {
  const last = history[history.length - 1]!;
  const before = history[history.length - 2] ?? { heap: 0, key: 0 };
  const heap = last.heap - before.heap;
  const key = last.key - before.key;
  const total = heap + key;
  console.log(
    `| ${label} | ${history.map((s) => `${(s.heap / 1e6).toFixed(1)} + ${(s.key / 1e6).toFixed(1)}`).join(' → ')} | ${perRow(heap)} | ${perRow(key)} | ${perRow(total)} | ${demoDay(total)} |`,
  );
}

async function fill(db: Database, registry: MartRegistry = MART_REGISTRY): Promise<Sizes[]> {
  const history: Sizes[] = [];
  for (let day = 0; day < DAYS; day++) {
    await writeDay(db, day, registry);
    history.push(await sizes(db));
  }
  return history;
}

const oldDir = mkdtempSync(join(tmpdir(), 'tidemark-migrations-'));
try {
  const all = fileURLToPath(DEFAULT_MIGRATIONS_DIR);
  for (const name of readdirSync(all)) if (name.endsWith('.sql') && name < '050') cpSync(join(all, name), join(oldDir, name));

  console.log(`${SESSIONS.toLocaleString('en')} sessions a day, ${DAYS} days; heap + key MB after each day; B/row and MB per 965k sessions of the last day`);
  console.log('| layout | heap + key MB after each day | heap B/row | key B/row | total B/row | MB / MiB per 965k sessions |');
  console.log('|---|---|---:|---:|---:|---:|');

  const before = await createPgliteDatabase(undefined);
  await migrate(before, { dir: oldDir });
  report('before (001 + 009)', await fill(before, BEFORE_050));
  // 050 over the 'before' database's rows.
  const started = performance.now();
  await migrate(before);
  const rebuildS = (performance.now() - started) / 1000;
  const rebuilt = await sizes(before);
  console.log(`| 050 run on 'before' (all ${DAYS} days at once, ${rebuildS.toFixed(1)} s) | ${(rebuilt.heap / 1e6).toFixed(1)} + ${(rebuilt.key / 1e6).toFixed(1)} | ${perRow(rebuilt.heap / DAYS)} | ${perRow(rebuilt.key / DAYS)} | ${perRow((rebuilt.heap + rebuilt.key) / DAYS)} | ${demoDay((rebuilt.heap + rebuilt.key) / DAYS)} |`);
  await before.close();

  const after = await createPgliteDatabase(undefined);
  await migrate(after);
  report('after (050)', await fill(after));
  await after.close();
} finally {
  rmSync(oldDir, { recursive: true, force: true });
}
