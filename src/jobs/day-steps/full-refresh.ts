// `--full-refresh` (SPEC §6): recompute the cold marts of every complete date in the lake and
// swap each whole cold table atomically. Dates are recomputed one at a time into staging tables
// (db/migrations/005), so memory holds one day; then each mart is swapped in one transaction,
// DELETE all + INSERT … SELECT from staging — not a rename (see 005 for why). A date whose end
// the archive watermark has not reached is left out (never a partial day), and so are the
// rows of dates no longer in the lake.
import { randomUUID } from 'node:crypto';
import { countColdRows, insertColdRows, lockColdMarts, markDayComputed } from '../../io/mart-store/cold-mart-store.ts';
import { replaceSessionRollups } from '../../io/mart-store/session-rollups.ts';
import { listArchiveDates } from '../../io/lake/lake-day-reader.ts';
import { coldMarts, MART_REGISTRY, stagingTables, writtenColumns } from '../../marts/mart-registry.ts';
import type { MartRegistry } from '../../marts/mart-registry.ts';
import type { FullRefreshStep } from '../day-step.ts';
import { computeColdDay } from './cold-step.ts';
import { effectiveArchiveWatermark } from './completeness-step.ts';
import { dayBounds, throwIfCancelled } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

export interface FullRefreshOptions {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
  /** The marts to refresh and their staging tables; default the real registry. */
  readonly registry?: MartRegistry;
}

export interface FullRefreshResult {
  /** Dates recomputed, ascending. */
  readonly dates: readonly string[];
  /** Dates in the lake left out because the archive is not complete for them. */
  readonly incompleteDates: readonly string[];
  /** Rows per cold table after the swap (or that it would have, on a dry run). */
  readonly rows: Readonly<Record<string, number>>;
  readonly events: number;
  readonly duplicates: number;
}

export async function fullRefresh(deps: DayStepDeps, options: FullRefreshOptions): Promise<FullRefreshResult> {
  const timeZone = deps.settings.marts.timeZone;
  const watermark = (await effectiveArchiveWatermark(deps))?.watermark ?? Number.NEGATIVE_INFINITY;
  const all = await listArchiveDates(deps.lake);
  const dates = all.filter((d) => dayBounds(d, timeZone).end <= watermark);
  const incompleteDates = all.filter((d) => !dates.includes(d));
  const refreshId = randomUUID();
  const registry = options.registry ?? MART_REGISTRY;
  const marts = coldMarts(registry);
  const staging = stagingTables(registry);
  const rows: Record<string, number> = Object.fromEntries(marts.map((m) => [m.table, 0]));
  let events = 0;
  let duplicates = 0;
  try {
    for (const [i, date] of dates.entries()) {
      const computed = await computeColdDay(deps.lake, date, timeZone, options.signal);
      events += computed.events;
      duplicates += computed.duplicates;
      for (const [table, n] of Object.entries(countColdRows(computed.rows, registry))) rows[table] = (rows[table] ?? 0) + n;
      if (!options.dryRun) await insertColdRows(deps.db, computed.rows, { tables: staging, refreshId }, registry);
      options.onProgress?.((0.9 * (i + 1)) / dates.length);
    }
    throwIfCancelled(options.signal, 'full refresh', 'all dates');
    if (!options.dryRun) {
      for (const [i, mart] of marts.entries()) {
        // Names from the registry (checked identifiers), never from input.
        // computed_at as staged: when each day was recomputed, not when the swap ran.
        const columns = [...writtenColumns(mart).map((c) => c.column), ...(mart.computedAt ? ['computed_at'] : [])].join(', ');
        await deps.db.transaction(async (tx) => {
          await lockColdMarts(tx, registry);
          await tx.query(`DELETE FROM ${mart.table}`);
          await tx.query(`INSERT INTO ${mart.table} (${columns}) SELECT ${columns} FROM ${mart.staging} WHERE refresh_id = $1`, [refreshId]);
          // The rollups follow the sessions in their swap: every day's, old days' rows gone.
          if (mart.table === 'mart_session_analysis') await replaceSessionRollups(tx, 'all');
          if (i === marts.length - 1) for (const date of dates) await markDayComputed(tx, date);
        });
      }
    }
  } finally {
    if (!options.dryRun) for (const mart of marts) await deps.db.query(`DELETE FROM ${mart.staging} WHERE refresh_id = $1`, [refreshId]);
  }
  options.onProgress?.(1);
  deps.log.info(options.dryRun ? 'full refresh (dry run): nothing written' : 'cold marts fully refreshed', { dates: dates.length, incompleteDates, ...rows });
  return { dates, incompleteDates, rows, events, duplicates };
}

/** fullRefresh as the queue runs it: its result as a step summary for job_runs. */
export function createFullRefreshStep(deps: DayStepDeps): FullRefreshStep {
  return async ({ dryRun, signal, onProgress }) => {
    const started = deps.clock();
    const result = await fullRefresh(deps, { dryRun, signal, ...(onProgress === undefined ? {} : { onProgress }) });
    return {
      summary: {
        dry_run: dryRun,
        dates: result.dates.length,
        first_date: result.dates[0] ?? null,
        last_date: result.dates[result.dates.length - 1] ?? null,
        incomplete_dates: result.incompleteDates.join(','),
        events: result.events,
        duplicates_removed: result.duplicates,
        ...result.rows,
        duration_ms: deps.clock() - started,
      },
    };
  };
}
