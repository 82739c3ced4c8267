// Hot rows cut by the instant each is keyed by (minute, snapshot_ts or detected_ts, as the mart
// registry names it): e.g. the rows of one local day, what reconcile recomputes for that day.
import { hotMarts, rowsOf, rowTime } from '../../src/marts/mart-registry.ts';
import type { HotMartRows } from '../../src/marts/types.ts';

/** The rows of every hot mart whose key instant passes `keep`, in their order. */
export function filterHotRows(rows: HotMartRows, keep: (ts: number) => boolean): HotMartRows {
  const out: Record<string, readonly object[]> = {};
  for (const mart of hotMarts()) out[mart.id] = rowsOf(rows, mart).filter((row) => keep(rowTime(mart, row)));
  return out as unknown as HotMartRows;
}

/** The rows keyed in [start, end). */
export function hotRowsOfDay(rows: HotMartRows, start: number, end: number): HotMartRows {
  return filterHotRows(rows, (ts) => ts >= start && ts < end);
}

/** The key instant of every hot row, mart after mart. */
export function* hotRowTimes(rows: HotMartRows): Generator<number> {
  for (const mart of hotMarts()) for (const row of rowsOf(rows, mart)) yield rowTime(mart, row);
}
