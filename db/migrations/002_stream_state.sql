-- Checkpoint of the stream processor: committed in the same transaction as the hot-mart rows,
-- so offsets, watermark and operator state always describe exactly what the marts contain.

-- One row per consumer (group): its watermark never moves backwards (GREATEST on write).
CREATE TABLE IF NOT EXISTS stream_consumers (
  consumer      TEXT PRIMARY KEY,
  watermark_ts  TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per source partition: the next offset to read and the small state needed to resume it.
CREATE TABLE IF NOT EXISTS stream_partitions (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  next_offset      BIGINT NOT NULL CHECK (next_offset >= 0),
  max_event_ts     TIMESTAMPTZ NOT NULL,
  -- The owner's watermark at this commit: the partition's state is final below it, so a new
  -- owner must not treat anything older as on time.
  watermark_ts     TIMESTAMPTZ NOT NULL,
  top_frontier     TIMESTAMPTZ,
  trend_frontier   TIMESTAMPTZ,
  retain_from      TIMESTAMPTZ NOT NULL,
  -- Per-session anomaly prefix state (open episodes, provisional keys, alerts raised).
  anomaly_state    JSONB NOT NULL DEFAULT '{}'::jsonb,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, source, kafka_partition)
);

-- Applied events whose windows are not final yet: replayed into memory on restart instead of
-- re-reading the source (which may be hours back for a 24 h window).
CREATE TABLE IF NOT EXISTS stream_pending_events (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  seq              BIGINT GENERATED ALWAYS AS IDENTITY,
  event_ts         TIMESTAMPTZ NOT NULL,
  event_id         VARCHAR(128) NOT NULL,
  session_id       VARCHAR(128) NOT NULL,
  document_id      BIGINT NOT NULL,
  title            VARCHAR(1000),
  clinical_area    VARCHAR(200) NOT NULL,
  PRIMARY KEY (consumer, source, kafka_partition, seq)
);
CREATE INDEX IF NOT EXISTS stream_pending_events_ts
  ON stream_pending_events (consumer, source, kafka_partition, event_ts);

-- Final window buckets (per document per minute, per clinical area per 5 minutes) still inside
-- some window: the sliding aggregates are rebuilt from them on restart.
CREATE TABLE IF NOT EXISTS stream_state_buckets (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('top', 'trend')),
  bucket_start     TIMESTAMPTZ NOT NULL,
  state            TEXT NOT NULL,
  PRIMARY KEY (consumer, source, kafka_partition, kind, bucket_start)
);

-- Partial aggregates per source partition. Whoever owns a partition writes its partials in the
-- partition's checkpoint transaction; the global hot-mart rows are recombined from the partials
-- of every partition, so several instances in one consumer group produce exact rows.
CREATE TABLE IF NOT EXISTS hot_partial_traffic (
  consumer         TEXT NOT NULL,
  event_minute     TIMESTAMPTZ NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  total_clicks     INT NOT NULL,
  unique_sessions  INT NOT NULL,
  -- Distinct documents do not add up across partitions: keep the ids for the union.
  document_ids     BIGINT[] NOT NULL,
  is_final         BOOLEAN NOT NULL,
  PRIMARY KEY (consumer, event_minute, source, kafka_partition)
);

CREATE TABLE IF NOT EXISTS hot_partial_top_docs (
  consumer         TEXT NOT NULL,
  snapshot_ts      TIMESTAMPTZ NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  document_id      BIGINT NOT NULL,
  click_count      INT NOT NULL,
  unique_sessions  INT NOT NULL,
  title            VARCHAR(1000),
  title_ts         TIMESTAMPTZ,
  title_event_id   VARCHAR(128),
  is_final         BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (consumer, snapshot_ts, source, kafka_partition, document_id)
);

CREATE TABLE IF NOT EXISTS hot_partial_clinical_trend (
  consumer         TEXT NOT NULL,
  snapshot_ts      TIMESTAMPTZ NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  clinical_area    VARCHAR(200) NOT NULL,
  click_count      INT NOT NULL,
  unique_sessions  INT NOT NULL,
  previous_count   INT NOT NULL,
  is_final         BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (consumer, snapshot_ts, source, kafka_partition, clinical_area)
);
