// A small, hand-computed event set for the operator-surface tests (API, metrics, webhook): two
// ordinary sessions, an anomalous session with two episodes (the first escalates), a duplicate
// and a malformed line. Replayed through the real engine as a JSON Lines file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../src/io/db/database.ts';
import { createJsonLinesSource } from '../../src/io/file/json-lines-source.ts';
import { createLogger } from '../../src/io/log.ts';
import type { StreamMetrics } from '../../src/io/metrics.ts';
import { runStream } from '../../src/io/stream-runner.ts';
import type { StreamRunSummary } from '../../src/io/stream-runner.ts';
import { DEFAULT_MART_SETTINGS } from '../../src/marts/types.ts';

/** Anomaly thresholds small enough for a handful of clicks: WARNING at 3, CRITICAL at 5 within 5 min. */
export const KNOWN_SETTINGS = {
  marts: { ...DEFAULT_MART_SETTINGS, anomalyWarning: 3, anomalyCritical: 5 },
  watermarkDelayMs: 600_000,
  maxFutureSkewMs: 300_000,
  idlePartitionTimeoutMs: 60_000,
};

function event(id: string, ts: string, session: string, doc: number, title: string | null, area: string | null): string {
  return JSON.stringify({ event_id: id, event_ts: `2026-01-10T${ts}Z`, session_id: session, document_id: doc, title, clinical_area: area });
}

export const KNOWN_LINES: readonly string[] = [
  event('e1', '10:00:10', 's1', 1, 'Asthma: guideline', 'cardiology'),
  event('e2', '10:00:20', 's1', 2, 'Gout: diagnosis', 'oncology'),
  event('e3', '10:00:30', 's2', 1, 'Asthma: guideline', 'cardiology'),
  event('e3', '10:00:30', 's2', 1, 'Asthma: guideline', 'cardiology'),
  event('e4', '10:01:05', 's2', 1, 'Asthma: guideline (2026)', 'cardiology'),
  event('e5', '10:01:10', 's3', 3, null, null),
  '{"event_id": "broken", ',
  // The anomalous session: WARNING at its 3rd click (10:02:10), CRITICAL at its 5th (10:02:20).
  event('b1', '10:02:00', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b2', '10:02:05', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b3', '10:02:10', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b4', '10:02:15', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b5', '10:02:20', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b6', '10:02:25', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  // A second episode of the same session after a quiet span: WARNING again at 10:20:10.
  event('b7', '10:20:00', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b8', '10:20:05', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
  event('b9', '10:20:10', 'bot', 4, 'Sepsis: care pathway', 'neurology'),
];

/** Writes the known lines to a fresh file and replays them (bounded: every window becomes final). */
export async function replayKnownEvents(db: Database, metrics?: StreamMetrics): Promise<StreamRunSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-known-'));
  const file = join(dir, 'known.jsonl');
  writeFileSync(file, `${KNOWN_LINES.join('\n')}\n`);
  return runStream({
    db,
    source: createJsonLinesSource(file),
    consumer: 'known',
    settings: KNOWN_SETTINGS,
    batchMaxMessages: 4,
    batchMaxWaitMs: 10,
    log: createLogger('error'),
    ...(metrics === undefined ? {} : { metrics }),
  });
}
