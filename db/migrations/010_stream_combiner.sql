-- The hot path writes buckets, not partials: each partition stores its buckets (traffic minutes,
-- top-docs steps, clinical-trend steps) once they are final for it, and, when several instances
-- share the group, its open buckets as provisional rows. One combiner per source (the owner of
-- the lowest partition) folds every partition's buckets into the global windows and writes the
-- mart rows; its frontiers are stored with the rows it wrote, in the same transaction.
ALTER TABLE stream_state_buckets DROP CONSTRAINT IF EXISTS stream_state_buckets_kind_check;
ALTER TABLE stream_state_buckets ADD CONSTRAINT stream_state_buckets_kind_check CHECK (kind IN ('traffic', 'top', 'trend'));
ALTER TABLE stream_state_buckets ADD COLUMN IF NOT EXISTS is_final BOOLEAN NOT NULL DEFAULT true;
CREATE SEQUENCE IF NOT EXISTS stream_state_bucket_version;
ALTER TABLE stream_state_buckets ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT nextval('stream_state_bucket_version');
CREATE INDEX IF NOT EXISTS stream_state_buckets_version ON stream_state_buckets (consumer, source, version);

CREATE TABLE IF NOT EXISTS stream_combiner (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  traffic_frontier TIMESTAMPTZ NOT NULL,
  top_frontier     TIMESTAMPTZ NOT NULL,
  trend_frontier   TIMESTAMPTZ NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, source)
);

-- Applied events not yet below a partition's retain-from instant, one row per partition and
-- batch (restores open buckets, dedup ids and anomaly state after a restart or a rebalance).
CREATE TABLE IF NOT EXISTS stream_pending_batches (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  seq              BIGINT GENERATED ALWAYS AS IDENTITY,
  max_event_ts     TIMESTAMPTZ NOT NULL,
  events           TEXT NOT NULL,
  PRIMARY KEY (consumer, source, kafka_partition, seq)
);
