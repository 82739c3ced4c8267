// The hot rows keyed in one local day (minute, snapshot_ts or detected_ts in [start, end)): what
// reconcile recomputes for that day, cut from rows over a longer span.
import type { HotMartRows } from '../../src/marts/types.ts';

export function hotRowsOfDay(rows: HotMartRows, start: number, end: number): HotMartRows {
  const inDay = (ts: number): boolean => ts >= start && ts < end;
  return {
    traffic: rows.traffic.filter((r) => inDay(r.eventMinute)),
    topDocs: rows.topDocs.filter((r) => inDay(r.snapshotTs)),
    clinicalTrend: rows.clinicalTrend.filter((r) => inDay(r.snapshotTs)),
    anomalies: rows.anomalies.filter((r) => inDay(r.detectedTs)),
  };
}
