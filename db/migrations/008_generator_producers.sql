-- 008: where the demo's generator produces into Kafka (KAFKA_BROKERS set). One row per topic: the
-- generator's parameters (so a restart regenerates the same sequence) and the topic's end offsets
-- per partition when the demo first produced into it. A restart derives how much of the sequence
-- each partition already holds as (end offset now − base offset), so it resumes exactly there.
CREATE TABLE generator_producers (
  topic        TEXT PRIMARY KEY,
  source       TEXT NOT NULL,
  base_offsets JSONB NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
