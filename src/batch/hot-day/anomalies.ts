// mart_realtime_anomaly_sessions for the episodes detected in D (SPEC §4.4), per session over
// its event times sorted. A trailing count depends on event_ts only (events sharing an instant
// share a count), so a session needs its sorted instants and nothing else.
import type { AnomalyRow, MartSettings } from '../../marts/types.ts';
import { compareCodeUnits } from '../../marts/window-math.ts';
import type { DayRecords, SessionGroups } from './day-records.ts';
import type { Numbering } from './interner.ts';

export interface AnomalyInput {
  readonly records: DayRecords;
  readonly bySession: SessionGroups;
  readonly sessions: Numbering;
  /** Sessions with an event in D: only they can have an episode detected in D. */
  readonly activeInDay: (session: number) => boolean;
  readonly settings: MartSettings;
  readonly dayStart: number;
  readonly dayEnd: number;
}

export function anomalyRows(input: AnomalyInput): AnomalyRow[] {
  const { records, settings } = input;
  const { order, start } = input.bySession;
  let times = new Float64Array(1 << 10);
  const rows: AnomalyRow[] = [];
  for (let session = 0; session < input.sessions.size; session++) {
    const from = start[session] as number;
    const n = (start[session + 1] as number) - from;
    if (n < settings.anomalyWarning || !input.activeInDay(session)) continue; // no episode detected in D
    if (n > times.length) times = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) times[i] = records.tsAt(order[from + i] as number);
    const sorted = times.subarray(0, n).sort();
    for (const episode of episodes(sorted, settings)) {
      if (episode.detectedTs < input.dayStart || episode.detectedTs >= input.dayEnd) continue;
      rows.push({ ...episode, sessionId: input.sessions.name(session) });
    }
  }
  return rows.sort((a, b) => a.detectedTs - b.detectedTs || compareCodeUnits(a.sessionId, b.sessionId));
}

/** The episodes of one session's sorted event times. */
function episodes(times: Float64Array, settings: MartSettings): Omit<AnomalyRow, 'sessionId'>[] {
  const { anomalySpanMs: span, anomalyWarning: warning, anomalyCritical: critical } = settings;
  const n = times.length;
  // count[i] = events in (times[i] − span, times[i]]: from the first event after times[i] − span
  // up to the last event at times[i].
  const counts = new Int32Array(n);
  let low = 0;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const ts = times[i] as number;
    while ((times[low] as number) <= ts - span) low++;
    if (high <= i) high = i + 1;
    while (high < n && times[high] === ts) high++;
    counts[i] = high - low;
  }
  const found: Omit<AnomalyRow, 'sessionId'>[] = [];
  for (let i = 0; i < n; ) {
    if ((counts[i] as number) < warning) {
      i++;
      continue;
    }
    let end = i;
    let clickCount = counts[i] as number;
    while (end + 1 < n && (counts[end + 1] as number) >= warning) clickCount = Math.max(clickCount, counts[++end] as number);
    const detectedTs = times[i] as number;
    found.push({
      detectedTs,
      windowStart: detectedTs - span,
      windowEnd: times[end] as number,
      clickCount,
      severity: clickCount >= critical ? 'CRITICAL' : 'WARNING',
    });
    i = end + 1;
  }
  return found;
}
