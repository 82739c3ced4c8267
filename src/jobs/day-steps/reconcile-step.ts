// Step 3 of the daily flow (SPEC §6.3): recompute every hot row keyed in D (minute, snapshot_ts,
// detected_ts) from the archive — late events included — diff it against the stored rows,
// replace D's hot rows with the recomputed ones marked final, and record the drift per mart in
// reconcile_reports, all in one transaction.
//
// Racing the stream. The stream's combiner writes a key's final row once, when its frontier
// passes the key, and provisional rows before that; either would overwrite a reconciled row with
// the stream's value (which lacks the late events). Once the stream's watermark has passed the
// end of D no event of a window keyed in D can be on time any more (it would be late, and late
// events never touch the hot marts). So reconcile waits — DayStepNotReadyError — until every stream consumer's
// watermark is at or past the end of D: from then on the stream never writes a traffic minute,
// top-docs or trend snapshot of D again, and nothing has to change in the sink. The replace also
// takes the sink's own advisory locks, so a stream commit in flight is serialised with it.
// One exception is documented rather than prevented: an anomaly episode detected in D that is
// still open when reconcile runs (a session clicking across midnight until 02:00) is extended by
// the stream afterwards; its row then carries the stream's (on-time) continuation.
// A stream consumer abandoned with an old watermark would block reconcile; the error names it.
import { HotDayRecompute } from '../../batch/hot-day-recompute.ts';
import { diffHotMarts, hotMartReports } from '../../batch/reconcile-diff.ts';
import type { DiffCounts } from '../../batch/reconcile-diff.ts';
import type { Queryable } from '../../io/db/database.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../../io/hot-sink/timestamps.ts';
import { emptyReadStats, listArchiveObjects, namedMessageCount, readArchiveObjects } from '../../io/lake/lake-day-reader.ts';
import { assertRequiredPresent } from '../../io/lake/parquet-events.ts';
import { lockHotMarts, readHotRows, replaceHotRows } from '../../io/mart-store/hot-mart-store.ts';
import { consumerWatermarks } from '../../io/mart-store/idle-watermarks.ts';
import { DayStepNotReadyError } from '../day-step.ts';
import type { DayStep } from '../day-step.ts';
import { assertArchiveComplete, iso } from './completeness-step.ts';
import { dayBounds, throwIfCancelled } from './day-step-deps.ts';
import type { DayStepDeps } from './day-step-deps.ts';

// A stream that has committed every offset of the topic and been idle for IDLE_PARTITION_TIMEOUT
// counts as at wall clock − WATERMARK_DELAY (idle-watermarks.ts): an event arriving later is on
// time for it and rewrites hot rows of D, but the archive writer then archives it as late and
// marks D dirty, so the next daily flow reconciles D again.
async function assertStreamPassed(deps: DayStepDeps, date: string, dayEnd: number): Promise<void> {
  const behind = (await consumerWatermarks(deps.db, 'stream', deps.idle)).filter((s) => s.watermark < dayEnd);
  const first = behind[0];
  if (first !== undefined) {
    const names = behind.map((s) => `${s.consumer} at ${iso(s.watermark)}${s.lag === null || s.lag === 0 ? '' : ` (${s.lag} messages behind)`}`);
    throw new DayStepNotReadyError(
      `hot rows of ${date} are not final yet: stream watermark(s) ${names.join(', ')} before the end of the day ${iso(dayEnd)}; ` +
        'a stream advances with new events, or once it has committed every offset of the topic and been idle for IDLE_PARTITION_TIMEOUT',
      { waitingFor: 'stream', consumer: first.consumer, needed: dayEnd, current: first.watermark },
    );
  }
  // With several instances the combiner (which writes the final rows) may trail the group's
  // watermark by a batch or two: wait for its frontiers too, unless idleness lifted the stream.
  const lifted = new Set((await consumerWatermarks(deps.db, 'stream', deps.idle)).filter((s) => s.idle).map((s) => s.consumer));
  const combiners = await deps.db.query<{ consumer: string; source: string; f: unknown }>(
    `SELECT consumer, source, ${epochMs('least(traffic_frontier, top_frontier, trend_frontier)')} AS f FROM stream_combiner ORDER BY consumer, source`,
  );
  const trailing = combiners.rows.find((c) => !lifted.has(c.consumer) && fromSqlEpoch(c.f) < dayEnd);
  if (trailing !== undefined) {
    throw new DayStepNotReadyError(
      `hot rows of ${date} are not final yet: the combiner of ${trailing.consumer} (${trailing.source}) has written final rows up to ${iso(fromSqlEpoch(trailing.f))}, before the end of the day ${iso(dayEnd)}`,
      { waitingFor: 'stream', consumer: trailing.consumer, needed: dayEnd, current: fromSqlEpoch(trailing.f) },
    );
  }
}

/** Late events recorded by the stream with event_ts in [from, to): distinct event_ids. */
async function lateEventsOf(db: Queryable, from: number, to: number): Promise<number> {
  const result = await db.query<{ n: number }>(
    `SELECT count(DISTINCT event_id)::int AS n FROM late_events WHERE event_ts >= $1::timestamptz AND event_ts < $2::timestamptz`,
    [toSqlTimestamp(from), toSqlTimestamp(to)],
  );
  return result.rows[0]?.n ?? 0;
}

export function createReconcileStep(deps: DayStepDeps): DayStep {
  return async ({ date, dryRun, signal, onProgress, assumeComplete }) => {
    const marts = deps.settings.marts;
    const { start, end } = dayBounds(date, marts.timeZone);
    await assertArchiveComplete(deps, date, marts.timeZone, assumeComplete);
    if (assumeComplete === undefined) await assertStreamPassed(deps, date, end);
    throwIfCancelled(signal, 'reconcile', date);

    const started = deps.clock();
    const recompute = new HotDayRecompute(date, marts);
    const readStats = emptyReadStats();
    const dates = [...recompute.input.requiredDates, recompute.input.continuationDate];
    for (const archiveDate of dates) {
      const objects = await listArchiveObjects(deps.lake, archiveDate);
      if (archiveDate === date) recompute.reserve(namedMessageCount(objects));
      for await (const batch of readArchiveObjects(deps.lake, objects, readStats)) {
        assertRequiredPresent(batch);
        recompute.addColumns(batch);
        throwIfCancelled(signal, 'reconcile', date);
      }
      recompute.dateRead(archiveDate);
    }
    onProgress?.(0.5);
    const read = deps.clock();
    const recomputed = recompute.rows();
    const computed = deps.clock();
    throwIfCancelled(signal, 'reconcile', date);

    const apply = async (tx: Queryable): Promise<{ counts: DiffCounts[]; late: number }> => {
      // Inside the locks, so the stored side of the diff is what the replace overwrites.
      if (!dryRun) await lockHotMarts(tx);
      const current = await readHotRows(tx, start, end);
      const counts = hotMartReports(diffHotMarts(current, recomputed));
      const late = await lateEventsOf(tx, start, end);
      if (dryRun) return { counts, late };
      await replaceHotRows(tx, start, end, recomputed);
      for (const c of counts) {
        await tx.query(
          `INSERT INTO reconcile_reports (mart, event_date, rows_compared, rows_changed, rows_added, rows_removed, max_abs_diff, late_events)
           VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8)`,
          [c.mart, date, c.rowsCompared, c.rowsChanged, c.rowsAdded, c.rowsRemoved, c.maxAbsDiff, late],
        );
      }
      return { counts, late };
    };
    const { counts, late } = dryRun ? await apply(deps.db) : await deps.db.transaction(apply);
    onProgress?.(1);

    const finished = deps.clock();
    const summary: Record<string, string | number | boolean | null> = {
      dry_run: dryRun,
      events_read: readStats.rows,
      late_events: late,
      // Where the time went: reading the archive, sweeping the day, diffing + writing.
      read_ms: read - started,
      compute_ms: computed - read,
      write_ms: finished - computed,
    };
    for (const c of counts) {
      summary[`${c.mart}.compared`] = c.rowsCompared;
      summary[`${c.mart}.changed`] = c.rowsChanged;
      summary[`${c.mart}.added`] = c.rowsAdded;
      summary[`${c.mart}.removed`] = c.rowsRemoved;
      summary[`${c.mart}.max_abs_diff`] = c.maxAbsDiff;
    }
    deps.log.info(dryRun ? 'reconcile (dry run): nothing written' : 'hot marts reconciled', { date, ...summary });
    return { summary };
  };
}
