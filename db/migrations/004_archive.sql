-- State of the curated archive writer (SPEC §7): which offsets of each source partition are in
-- the lake, and which objects a flush was about to write when it last ran. Both change only in
-- PostgreSQL transactions, so after a crash at any instant the lake can be brought back to
-- "every offset below next_offset exactly once, nothing else".

-- Per (consumer group, source, partition): the next offset to archive and the clock the archive
-- watermark is computed from. `epoch` is bumped by every new owner when it takes the partition;
-- a flush commits only while its epoch and expected next_offset still match (the fence).
CREATE TABLE archive_partitions (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  -- NULL until the first flush: read from the earliest offset.
  next_offset      BIGINT CHECK (next_offset >= 0),
  epoch            BIGINT NOT NULL DEFAULT 1,
  -- Largest event_ts durably archived from this partition.
  max_event_ts     TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
  -- Wall clock of the last message the owner had read when it last committed (idleness).
  last_message_at  TIMESTAMPTZ,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, source, kafka_partition)
);

-- Objects a flush is about to upload, written (fenced) before the upload and deleted in the
-- transaction that commits the flush's offsets. A row that outlives its flush names an object
-- that may be in the lake without its offsets being committed: the next owner deletes it before
-- it archives the partition again, possibly cut at other offsets.
CREATE TABLE archive_intents (
  consumer         TEXT NOT NULL,
  source           TEXT NOT NULL,
  kafka_partition  INT NOT NULL,
  object_key       TEXT NOT NULL,
  epoch            BIGINT NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, source, kafka_partition, object_key)
);
