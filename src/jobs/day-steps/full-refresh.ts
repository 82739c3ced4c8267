// `--full-refresh` (SPEC §6): recompute the cold marts of every complete date in the lake and
// swap each whole cold table atomically. Dates are recomputed one at a time into staging tables
// (db/migrations/005), so memory holds one day; then each mart is swapped in one transaction,
// DELETE all + INSERT … SELECT from staging — not a rename (see 005 for why). A date whose end
// the archive watermark has not reached is left out (never a partial day), and so are the
// rows of dates no longer in the lake.
import { randomUUID } from 'node:crypto';
import { COLD_TABLES, insertColdRows, lockColdMarts, markDayComputed } from '../../io/mart-store/cold-mart-store.ts';
import type { ColdTable } from '../../io/mart-store/cold-mart-store.ts';
import { replaceSessionRollups } from '../../io/mart-store/session-rollups.ts';
import { listArchiveDates } from '../../io/lake/lake-day-reader.ts';
import { archiveWatermark } from '../../io/mart-store/watermarks.ts';
import type { FullRefreshStep } from '../day-step.ts';
import { computeColdDay } from './cold-step.ts';
import { dayBounds, throwIfCancelled } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

const STAGING: Record<ColdTable, string> = {
  mart_session_analysis: 'cold_refresh_session_analysis',
  mart_daily_traffic: 'cold_refresh_daily_traffic',
  mart_clinical_areas: 'cold_refresh_clinical_areas',
  mart_popular_documents: 'cold_refresh_popular_documents',
};

const COLUMNS: Record<ColdTable, string> = {
  mart_session_analysis: 'session_id, event_date, click_count, unique_docs, first_click_ts, last_click_ts, session_duration_sec, computed_at',
  mart_daily_traffic: 'event_date, total_events, unique_sessions, unique_documents, peak_hour, computed_at',
  mart_clinical_areas: 'event_date, clinical_area, search_count, unique_sessions, computed_at',
  mart_popular_documents: 'event_date, document_id, title, view_count, unique_sessions, computed_at',
};

export interface FullRefreshOptions {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
}

export interface FullRefreshResult {
  /** Dates recomputed, ascending. */
  readonly dates: readonly string[];
  /** Dates in the lake left out because the archive is not complete for them. */
  readonly incompleteDates: readonly string[];
  /** Rows per cold table after the swap (or that it would have, on a dry run). */
  readonly rows: Readonly<Record<ColdTable, number>>;
  readonly events: number;
  readonly duplicates: number;
}

export async function fullRefresh(deps: DayStepDeps, options: FullRefreshOptions): Promise<FullRefreshResult> {
  const timeZone = deps.settings.marts.timeZone;
  const watermark = (await archiveWatermark(deps.db)) ?? Number.NEGATIVE_INFINITY;
  const all = await listArchiveDates(deps.lake);
  const dates = all.filter((d) => dayBounds(d, timeZone).end <= watermark);
  const incompleteDates = all.filter((d) => !dates.includes(d));
  const refreshId = randomUUID();
  const rows: Record<ColdTable, number> = { mart_session_analysis: 0, mart_daily_traffic: 0, mart_clinical_areas: 0, mart_popular_documents: 0 };
  let events = 0;
  let duplicates = 0;
  try {
    for (const [i, date] of dates.entries()) {
      const computed = await computeColdDay(deps.lake, date, timeZone, options.signal);
      events += computed.events;
      duplicates += computed.duplicates;
      rows.mart_session_analysis += computed.rows.sessionCount;
      rows.mart_daily_traffic += computed.rows.dailyTraffic.length;
      rows.mart_clinical_areas += computed.rows.clinicalAreas.length;
      rows.mart_popular_documents += computed.rows.popularDocuments.length;
      if (!options.dryRun) await insertColdRows(deps.db, computed.rows, { tables: STAGING, refreshId });
      options.onProgress?.((0.9 * (i + 1)) / dates.length);
    }
    throwIfCancelled(options.signal, 'full refresh', 'all dates');
    if (!options.dryRun) {
      for (const table of COLD_TABLES) {
        await deps.db.transaction(async (tx) => {
          await lockColdMarts(tx);
          await tx.query(`DELETE FROM ${table}`);
          await tx.query(`INSERT INTO ${table} (${COLUMNS[table]}) SELECT ${COLUMNS[table]} FROM ${STAGING[table]} WHERE refresh_id = $1`, [refreshId]);
          // The rollups follow the sessions in their swap: every day's, old days' rows gone.
          if (table === 'mart_session_analysis') await replaceSessionRollups(tx, 'all');
          if (table === COLD_TABLES[COLD_TABLES.length - 1]) for (const date of dates) await markDayComputed(tx, date);
        });
      }
    }
  } finally {
    if (!options.dryRun) for (const table of COLD_TABLES) await deps.db.query(`DELETE FROM ${STAGING[table]} WHERE refresh_id = $1`, [refreshId]);
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
