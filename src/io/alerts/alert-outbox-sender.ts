// Delivers the anomaly_alerts outbox (rows the stream wrote in its batch transactions) to the
// webhook, once per (session, episode, severity). A sender claims due rows with FOR UPDATE SKIP
// LOCKED and a lease (next_attempt_at), posts outside any transaction, then stamps delivered_at,
// so several processes can share the outbox and a restart picks up where the last one stopped.
// The one gap, as with any webhook: a crash between the receiver's 2xx and the stamp re-sends.
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { anomalyMessage } from './slack-message.ts';
import { backoffMs } from './webhook-poster.ts';
import type { WebhookPoster } from './webhook-poster.ts';
import { sleep } from '../sleep.ts';

export interface AlertOutboxSenderOptions {
  readonly db: Database;
  readonly post: WebhookPoster;
  readonly log: Logger;
  readonly metrics?: OperatorMetrics;
  /** How often to look for due alerts (default 500 ms: alerts go out within a second). */
  readonly pollMs?: number;
  /** First retry delay after a failed delivery; doubles per attempt (default 1 s, capped at maxBackoffMs). */
  readonly backoffBaseMs?: number;
  readonly maxBackoffMs?: number;
  /** How long a claimed alert stays invisible to other senders while this one posts it (default 2 min). */
  readonly leaseMs?: number;
  /** Alerts claimed per round (default 10). */
  readonly batchSize?: number;
}

interface ClaimedAlert {
  session_id: string;
  detected_ts: Date;
  severity: string;
  click_count: number;
  payload: Record<string, unknown> | string;
  attempts: number;
}

export interface DeliveryRound {
  readonly delivered: number;
  readonly failed: number;
}

export class AlertOutboxSender {
  private readonly options: AlertOutboxSenderOptions;

  constructor(options: AlertOutboxSenderOptions) {
    this.options = options;
  }

  /** Claims and posts the alerts due now; resolves once each of them is delivered or rescheduled. */
  async deliverDue(): Promise<DeliveryRound> {
    const { db, post, log, metrics } = this.options;
    const claimed = await db.query<ClaimedAlert>(
      `UPDATE anomaly_alerts a
          SET next_attempt_at = now() + $1::int * interval '1 millisecond', attempts = a.attempts + 1
         FROM (SELECT session_id, detected_ts, severity FROM anomaly_alerts
                WHERE delivered_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                ORDER BY raised_at, detected_ts, session_id, severity DESC
                LIMIT $2
                FOR UPDATE SKIP LOCKED) due
        WHERE a.session_id = due.session_id AND a.detected_ts = due.detected_ts AND a.severity = due.severity
        RETURNING a.session_id, a.detected_ts, a.severity, a.click_count, a.payload, a.attempts`,
      [this.options.leaseMs ?? 120_000, this.options.batchSize ?? 10],
    );
    // RETURNING does not keep the sub-select's order: restore it (WARNING before its escalation).
    const rows = claimed.rows.sort(
      (a, b) => a.detected_ts.getTime() - b.detected_ts.getTime() || a.session_id.localeCompare(b.session_id) || b.severity.localeCompare(a.severity),
    );
    let delivered = 0;
    let failed = 0;
    for (const row of rows) {
      const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload;
      const outcome = await post(
        anomalyMessage({
          sessionId: row.session_id,
          severity: row.severity,
          detectedTs: row.detected_ts.toISOString(),
          clickCount: row.click_count,
          windowEnd: typeof payload['window_end'] === 'string' ? payload['window_end'] : undefined,
          escalation: payload['escalation'] === true,
        }),
      );
      const key = [row.session_id, row.detected_ts.toISOString(), row.severity];
      if (outcome.kind === 'delivered') {
        delivered++;
        await db.query(
          `UPDATE anomaly_alerts SET delivered_at = now(), last_error = NULL, next_attempt_at = NULL
            WHERE session_id = $1 AND detected_ts = $2::timestamptz AND severity = $3`,
          key,
        );
        metrics?.alertDeliveries.inc({ kind: 'anomaly', outcome: 'delivered' });
        log.info('alert delivered', { session_id: row.session_id, severity: row.severity, attempts: row.attempts });
      } else {
        failed++;
        // A refusal (4xx) will not change by retrying: park the alert, keep the error for operators.
        const delay = outcome.kind === 'refused' ? null : backoffMs(row.attempts, this.options.backoffBaseMs ?? 1000, this.options.maxBackoffMs ?? 300_000);
        await db.query(
          `UPDATE anomaly_alerts
              SET last_error = $4,
                  next_attempt_at = CASE WHEN $5::int IS NULL THEN 'infinity'::timestamptz ELSE now() + $5::int * interval '1 millisecond' END
            WHERE session_id = $1 AND detected_ts = $2::timestamptz AND severity = $3`,
          [...key, outcome.error, delay],
        );
        metrics?.alertDeliveries.inc({ kind: 'anomaly', outcome: outcome.kind === 'refused' ? 'refused' : 'retry' });
        log.warn('alert delivery failed', { session_id: row.session_id, severity: row.severity, attempts: row.attempts, error: outcome.error, retry_in_ms: delay });
      }
    }
    return { delivered, failed };
  }

  /** Delivers due alerts until the signal aborts. Database hiccups are logged and retried. */
  async run(signal: AbortSignal): Promise<void> {
    const pollMs = this.options.pollMs ?? 500;
    while (!signal.aborted) {
      let round: DeliveryRound = { delivered: 0, failed: 0 };
      try {
        round = await this.deliverDue();
      } catch (error) {
        this.options.log.warn('alert outbox round failed', { error: (error as Error).message });
      }
      // A full batch means more may be due right away.
      if (round.delivered + round.failed >= (this.options.batchSize ?? 10)) continue;
      await sleep(pollMs, signal);
    }
  }
}

