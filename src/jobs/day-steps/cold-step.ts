// Step 2 of the daily flow (SPEC §5, §6.2): recompute the four cold marts of D from the archive
// and replace D's rows in one transaction (DELETE the day + bulk INSERT). Under PostgreSQL's MVCC
// a reader's statement sees the snapshot before the commit or after it: the old day or the new
// one, never an empty, partial or doubled day. lake_days is updated in the same transaction.
import { ColdDayAccumulator } from '../../batch/cold-day-accumulator.ts';
import type { Lake } from '../../io/lake/lake.ts';
import { emptyReadStats, listArchiveObjects, namedMessageCount, readArchiveObjects } from '../../io/lake/lake-day-reader.ts';
import { assertRequiredPresent } from '../../io/lake/parquet-events.ts';
import type { LakeReadStats } from '../../io/lake/lake-day-reader.ts';
import { countColdRows, deleteColdDay, insertColdRows, lockColdMarts, markDayComputed } from '../../io/mart-store/cold-mart-store.ts';
import { replaceSessionRollups } from '../../io/mart-store/session-rollups.ts';
import type { ColdMartChunks } from '../../marts/types.ts';
import type { DayStep } from '../day-step.ts';
import { assertArchiveComplete } from './completeness-step.ts';
import { throwIfCancelled } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

export interface ColdDayComputation {
  /** The session rows are made while they are written, and can be iterated once. */
  readonly rows: ColdMartChunks;
  readonly read: LakeReadStats;
  readonly events: number;
  readonly duplicates: number;
  /** Events filed under D whose local date is another day (a mis-filed object); not counted. */
  readonly otherDates: number;
}

/**
 * The cold rows of one date, read one row group at a time. The signal is checked between row
 * groups; `onProgress` gets the fraction of the day's bytes read.
 */
export async function computeColdDay(
  lake: Lake,
  date: string,
  timeZone: string,
  signal: AbortSignal,
  onProgress?: (fraction: number) => void,
): Promise<ColdDayComputation> {
  throwIfCancelled(signal, 'cold', date);
  const objects = await listArchiveObjects(lake, date);
  const totalBytes = objects.reduce((n, o) => n + o.size, 0);
  const accumulator = new ColdDayAccumulator(date, timeZone, namedMessageCount(objects));
  const read = emptyReadStats();
  for await (const batch of readArchiveObjects(lake, objects, read)) {
    assertRequiredPresent(batch);
    accumulator.addColumns(batch);
    throwIfCancelled(signal, 'cold', date);
    if (onProgress !== undefined && totalBytes > 0) onProgress(Math.min(0.9, (0.9 * read.bytes) / totalBytes));
  }
  return {
    rows: accumulator.finish(),
    read,
    events: accumulator.totalEvents,
    duplicates: accumulator.duplicateEvents,
    otherDates: accumulator.ignoredEvents,
  };
}

export function coldSummary(c: ColdDayComputation): Record<string, number> {
  return {
    events_read: c.read.rows,
    duplicates_removed: c.duplicates,
    events: c.events,
    other_date_events: c.otherDates,
    objects: c.read.objects,
    row_groups: c.read.rowGroups,
    ...countColdRows(c.rows),
  };
}

export function createColdStep(deps: DayStepDeps): DayStep {
  return async ({ date, dryRun, signal, onProgress, assumeComplete }) => {
    const timeZone = deps.settings.marts.timeZone;
    await assertArchiveComplete(deps, date, timeZone, assumeComplete);
    const started = deps.clock();
    const computed = await computeColdDay(deps.lake, date, timeZone, signal, onProgress);
    const read = deps.clock();
    // The last moment a cancel can still leave the day untouched: the replace below is short and
    // all-or-nothing, so it is not interrupted.
    throwIfCancelled(signal, 'cold', date);
    const summary = { ...coldSummary(computed), dry_run: dryRun };
    if (dryRun) {
      deps.log.info('cold recompute (dry run): nothing written', { date, ...summary });
      onProgress?.(1);
      return { summary };
    }
    const replaced = await deps.db.transaction(async (tx) => {
      await lockColdMarts(tx);
      const deleted = await deleteColdDay(tx, date);
      await insertColdRows(tx, computed.rows);
      // From the sessions just written, in this transaction: the rollups never disagree with them.
      const rollups = await replaceSessionRollups(tx, [date]);
      await markDayComputed(tx, date);
      return { rows: Object.values(deleted).reduce((a, b) => a + b, 0), rollups };
    });
    onProgress?.(1);
    // Where the time went: reading + computing, then writing (which also makes the session rows).
    const finished = deps.clock();
    const result = { ...summary, ...replaced.rollups, rows_replaced: replaced.rows, read_ms: read - started, write_ms: finished - read, duration_ms: finished - started };
    deps.log.info('cold marts replaced', { date, ...result });
    return { summary: result };
  };
}
