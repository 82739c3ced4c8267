// What the cold-path acceptance tests expect of the mart suite once the daily flow has run: the
// events the archive holds, the hot rows keyed in one local day, the reconcile_reports rows the
// difference between two states of the hot marts implies, and the quality checks that must pass.
import { expect } from 'vitest';
import { diffHotMarts, hotMartReports } from '../../src/batch/reconcile-diff.ts';
import type { Queryable } from '../../src/io/db/database.ts';
import { parseRawMessage } from '../../src/marts/event-contract.ts';
import { hotTables } from '../../src/marts/mart-registry.ts';
import { addDays, endOfLocalDay, localDate, startOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ClickEvent, ColdMartRows, HotMartRows } from '../../src/marts/types.ts';
import type { MartSuite } from '../fixtures/mart-suite.ts';
import { filterHotRows, hotRowsOfDay, hotRowTimes } from './hot-rows-of-day.ts';

/** Every well-formed line in arrival order: duplicates and late events included (what the archive holds). */
export function archivedSuiteEvents(suite: MartSuite): ClickEvent[] {
  const dead = new Set(suite.expected.deadLetters.map((d) => d.line));
  return suite.lines.flatMap((line, i) => {
    if (dead.has(i)) return [];
    const parsed = parseRawMessage(line, { nowMs: Date.now(), maxFutureSkewMs: suite.maxFutureSkewMs });
    return parsed.ok ? [parsed.event] : [];
  });
}

/** event_ts of each late line's event, by event_id. */
export function lateSuiteEvents(suite: MartSuite): Map<string, number> {
  const late = new Map<string, number>();
  for (const line of suite.expected.lateLines) {
    const parsed = parseRawMessage(suite.lines[line] as string, { nowMs: Date.now(), maxFutureSkewMs: suite.maxFutureSkewMs });
    if (parsed.ok) late.set(parsed.event.eventId, parsed.event.eventTs);
  }
  return late;
}

/** The hot rows whose minute / snapshot_ts / detected_ts falls in the local day `date`. */
export function hotOnDay(rows: HotMartRows, date: string, zone: string): HotMartRows {
  return hotRowsOfDay(rows, startOfLocalDay(date, zone), endOfLocalDay(date, zone));
}

/** The hot rows keyed in any of `dates`, in the order readHotMarts returns them. */
export function hotOnDays(rows: HotMartRows, dates: readonly string[], zone: string): HotMartRows {
  const days = new Set(dates);
  return filterHotRows(rows, (ts) => days.has(localDate(ts, zone)));
}

/** Every local date from the first to the last key of the given hot marts: the days a reconcile must cover. */
export function hotKeyDays(marts: readonly HotMartRows[], zone: string): string[] {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const rows of marts) {
    // A loop, not Math.min(...keys): the suite's snapshots are too many for spread arguments.
    for (const key of hotRowTimes(rows)) {
      if (key < first) first = key;
      if (key > last) last = key;
    }
  }
  const days: string[] = [];
  for (let d = localDate(first, zone); d <= localDate(last, zone); d = addDays(d, 1)) days.push(d);
  return days;
}

export interface ReportRow {
  readonly mart: string;
  readonly date: string;
  readonly compared: number;
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
  readonly maxAbsDiff: number;
  readonly late: number;
}

/**
 * The reconcile_reports rows reconciling `dates` must write when the hot marts go from `before` to
 * `after`: per (day, mart) the rows that differ, and the late events (by event_ts) of the day.
 */
export function expectedReports(before: HotMartRows, after: HotMartRows, dates: readonly string[], zone: string, lateEventTs: Iterable<number>): ReportRow[] {
  const late = [...lateEventTs];
  return dates.flatMap((date) => {
    const diffs = diffHotMarts(hotOnDay(before, date, zone), hotOnDay(after, date, zone));
    const lateOfDay = late.filter((ts) => localDate(ts, zone) === date).length;
    return hotMartReports(diffs).map((d) => ({
      mart: d.mart,
      date,
      compared: d.rowsCompared,
      changed: d.rowsChanged,
      added: d.rowsAdded,
      removed: d.rowsRemoved,
      maxAbsDiff: d.maxAbsDiff,
      late: lateOfDay,
    }));
  });
}

/** reconcile_reports as ReportRows, by day, then in mart order. */
export async function readReports(db: Queryable): Promise<ReportRow[]> {
  const { rows } = await db.query<{ mart: string; date: string; compared: number; changed: number; added: number; removed: number; m: string; late: number }>(
    `SELECT mart, event_date::text AS date, rows_compared AS compared, rows_changed AS changed, rows_added AS added, rows_removed AS removed,
            max_abs_diff::text AS m, late_events AS late
       FROM reconcile_reports ORDER BY event_date, array_position($1::text[], mart)`,
    [hotTables()],
  );
  return rows.map(({ m, ...r }) => ({ ...r, maxAbsDiff: Number(m) }));
}

/**
 * quality_results after the flow ran on `dates`: no check failed, and every error-level check of
 * SPEC §6.4 (PK unique, no negatives, the Σ invariants, archive freshness) passed on every day,
 * the invariants with the cold total of the day. Row-count warnings are allowed: the suite's days
 * differ a lot by design.
 */
export async function expectQualityPassed(db: Queryable, dates: readonly string[], cold: ColdMartRows): Promise<void> {
  const { rows } = await db.query<{ check_name: string; mart: string; date: string; status: string; observed: string; expected: string }>(
    `SELECT check_name, mart, event_date::text AS date, status, observed, expected FROM quality_results ORDER BY id`,
  );
  expect(rows.filter((r) => r.status === 'fail')).toEqual([]);
  expect(rows.filter((r) => r.status !== 'pass' && r.check_name !== 'row_count_change')).toEqual([]);
  for (const date of dates) {
    const ofDay = rows.filter((r) => r.date === date);
    const checks = new Set(ofDay.map((r) => r.check_name));
    expect(checks).toEqual(new Set(['pk_unique', 'no_negatives', 'events_match_daily_total', 'archive_freshness', 'row_count_change', 'rollup_matches_sessions']));
    const total = cold.dailyTraffic.find((r) => r.eventDate === date)?.totalEvents ?? 0;
    const invariants = ofDay.filter((r) => r.check_name === 'events_match_daily_total');
    expect(invariants).toHaveLength(4);
    for (const row of invariants) expect(row).toMatchObject({ status: 'pass', observed: String(total), expected: String(total) });
  }
}
