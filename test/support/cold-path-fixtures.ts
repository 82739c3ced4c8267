// Small, exactly known inputs for tests of the daily steps, full refresh and retention: events
// spread over a local day, the archive watermark set by hand, and rows of every table retention
// touches at known ages.
import type { Queryable } from '../../src/io/db/database.ts';
import { endOfLocalDay, startOfLocalDay } from '../../src/marts/time-zone.ts';
import type { ClickEvent } from '../../src/marts/types.ts';
import type { RetentionTable } from '../../src/jobs/retention.ts';

/** n events spread over the local day `date`; `variant` changes ids, sessions and documents. */
export function dayEvents(date: string, n: number, variant: string, zone: string): ClickEvent[] {
  const start = startOfLocalDay(date, zone);
  const span = endOfLocalDay(date, zone) - start;
  return Array.from({ length: n }, (_, i) => ({
    eventId: `${variant}-${date}-${i}`,
    eventTs: start + Math.floor((i * span) / n),
    sessionId: `${variant}-s${i % 97}`,
    documentId: String((i * 7) % 211),
    title: i % 5 === 0 ? null : `doc ${(i * 7) % 211}`,
    clinicalArea: ['cardiology', 'oncology', 'unknown'][i % 3] as string,
  }));
}

/** Sets the (single) archive writer's watermark: an instant (epoch ms) or 'infinity'. */
export async function setArchiveWatermark(db: Queryable, value: string | number): Promise<void> {
  const iso = typeof value === 'number' ? new Date(value).toISOString() : value;
  await db.query(
    `INSERT INTO archive_watermark (consumer, watermark_ts) VALUES ('tidemark-archive', $1::timestamptz)
     ON CONFLICT (consumer) DO UPDATE SET watermark_ts = excluded.watermark_ts`,
    [iso],
  );
}

const DAY_MS = 86_400_000;

/**
 * Rows that retention judges, relative to `now`: in each hot mart one row 3, 6.9, 7.1 and 10 days
 * old; dead letters and late events 1, 29, 31, 40 and 45 days old; alerts raised 1, 29, 31, 40 and
 * 45 days ago and delivered (the 31-day one only 2 days ago, after retries: its age is still when
 * it was raised), and two undelivered ones raised 40 and 45 days ago (one refused for good, one
 * still retrying). Returns what retention with HOT_RETENTION_DAYS = 7 deletes per table.
 */
export async function seedAgedRows(db: Queryable, now: number): Promise<Record<RetentionTable, number>> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const ages = [3, 6.9, 7.1, 10].map((d) => Math.floor((now - d * DAY_MS) / 60_000) * 60_000);
  for (const ts of ages) {
    await db.query(`INSERT INTO mart_realtime_traffic_minute (event_minute, total_clicks, unique_sessions, unique_docs) VALUES ($1::timestamptz, 1, 1, 1)`, [iso(ts)]);
    await db.query(`INSERT INTO mart_realtime_top_docs_1h (snapshot_ts, rank, document_id, click_count, unique_sessions) VALUES ($1::timestamptz, 1, 5, 1, 1)`, [iso(ts)]);
    await db.query(`INSERT INTO mart_realtime_clinical_trend_24h (snapshot_ts, clinical_area, click_count, unique_sessions) VALUES ($1::timestamptz, 'x', 1, 1)`, [iso(ts)]);
    await db.query(
      `INSERT INTO mart_realtime_anomaly_sessions (detected_ts, session_id, window_start, window_end, click_count, severity) VALUES ($1::timestamptz, 's', $2::timestamptz, $1::timestamptz, 50, 'WARNING')`,
      [iso(ts), iso(ts - 300_000)],
    );
  }
  for (const [i, d] of [1, 29, 31, 40, 45].entries()) {
    await db.query(`INSERT INTO dead_letter_events (source, kafka_partition, kafka_offset, raw_text, reason, received_at) VALUES ('t', 0, $1, '{', 'invalid_json', $2::timestamptz)`, [i, iso(now - d * DAY_MS)]);
    await db.query(
      `INSERT INTO late_events (source, kafka_partition, kafka_offset, event_id, event_ts, session_id, document_id, clinical_area, watermark_ts) VALUES ('t', 0, $1, $2, $3::timestamptz, 's', 1, 'x', $4::timestamptz)`,
      [i, `e${i}`, iso(now - d * DAY_MS), iso(now - d * DAY_MS + 3_600_000)],
    );
    const raised = now - d * DAY_MS;
    const delivered = d === 31 ? now - 2 * DAY_MS : raised + 60_000;
    await db.query(
      `INSERT INTO anomaly_alerts (session_id, detected_ts, severity, click_count, raised_at, payload, delivered_at, attempts)
       VALUES ($1, $2::timestamptz, 'WARNING', 50, $2::timestamptz, '{}', $3::timestamptz, 1)`,
      [`s${i}`, iso(raised), iso(delivered)],
    );
  }
  await db.query(
    `INSERT INTO anomaly_alerts (session_id, detected_ts, severity, click_count, raised_at, payload, attempts, next_attempt_at, last_error)
     VALUES ('refused', $1::timestamptz, 'CRITICAL', 90, $1::timestamptz, '{}', 1, 'infinity', 'HTTP 400'),
            ('retrying', $2::timestamptz, 'WARNING', 50, $2::timestamptz, '{}', 12, $3::timestamptz, 'HTTP 503')`,
    [iso(now - 40 * DAY_MS), iso(now - 45 * DAY_MS), iso(now + 60_000)],
  );
  return {
    mart_realtime_traffic_minute: 2,
    mart_realtime_top_docs_1h: 2,
    mart_realtime_clinical_trend_24h: 2,
    mart_realtime_anomaly_sessions: 2,
    dead_letter_events: 3,
    late_events: 3,
    anomaly_alerts: 3,
  };
}

/** Rows per table retention touches, in RETENTION_TARGETS order: 'n/n/…'. */
export async function agedRowCounts(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT concat_ws('/', (SELECT count(*) FROM mart_realtime_traffic_minute), (SELECT count(*) FROM mart_realtime_top_docs_1h),
            (SELECT count(*) FROM mart_realtime_clinical_trend_24h), (SELECT count(*) FROM mart_realtime_anomaly_sessions),
            (SELECT count(*) FROM dead_letter_events), (SELECT count(*) FROM late_events), (SELECT count(*) FROM anomaly_alerts)) AS n`,
  );
  return rows[0]?.n ?? '';
}
