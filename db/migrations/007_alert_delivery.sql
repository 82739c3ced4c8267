-- 007: delivery bookkeeping of the anomaly_alerts outbox. next_attempt_at is both the retry
-- back-off (after a failed delivery) and a claim lease (while one sender posts the alert), so
-- several processes can share the outbox without holding a transaction open across an HTTP call.
ALTER TABLE anomaly_alerts ADD COLUMN next_attempt_at TIMESTAMPTZ;
-- 'infinity' marks an alert the webhook refused for good (a 4xx other than 429).
DROP INDEX IF EXISTS anomaly_alerts_pending_idx;
CREATE INDEX anomaly_alerts_pending_idx ON anomaly_alerts (next_attempt_at NULLS FIRST, raised_at) WHERE delivered_at IS NULL;
