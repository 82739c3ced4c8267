// mart_realtime_traffic_minute for the minutes of D (SPEC §4.1), from the records grouped by minute.
import type { TrafficMinuteRow } from '../../marts/types.ts';
import { MINUTE_MS } from '../../marts/window-math.ts';
import type { DayRecords } from './day-records.ts';
import type { MinuteGroups } from './hot-day-data.ts';

export function trafficRows(
  records: DayRecords,
  groups: MinuteGroups,
  sessionCount: number,
  documentCount: number,
  dayStart: number,
  dayEnd: number,
): TrafficMinuteRow[] {
  // A distinct count per minute without a set: the minute number marks what was counted.
  const sessionSeen = new Int32Array(sessionCount).fill(-1);
  const documentSeen = new Int32Array(documentCount).fill(-1);
  const rows: TrafficMinuteRow[] = [];
  for (let m = 0; m < groups.minutes; m++) {
    const eventMinute = groups.firstMinute + m * MINUTE_MS;
    if (eventMinute < dayStart || eventMinute >= dayEnd) continue;
    const from = groups.start[m] as number;
    const to = groups.start[m + 1] as number;
    if (from === to) continue;
    let uniqueSessions = 0;
    let uniqueDocs = 0;
    for (let k = from; k < to; k++) {
      const row = groups.order[k] as number;
      const session = records.session[row] as number;
      const document = records.document.get(row);
      if (sessionSeen[session] !== m) {
        sessionSeen[session] = m;
        uniqueSessions++;
      }
      if (documentSeen[document] !== m) {
        documentSeen[document] = m;
        uniqueDocs++;
      }
    }
    rows.push({ eventMinute, totalClicks: to - from, uniqueSessions, uniqueDocs });
  }
  return rows;
}
