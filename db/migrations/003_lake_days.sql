-- What the cold path knows about each event_date of the lake, shared by the archive writer and
-- the daily steps (SPEC §6): whether the day's cold marts were computed, and whether an event of
-- that date reached the archive afterwards (dirty: the next daily flow recomputes it).
CREATE TABLE lake_days (
  event_date DATE PRIMARY KEY,
  -- Set by the cold step in the transaction that replaces the day's cold rows.
  cold_computed_at TIMESTAMPTZ,
  -- Set by the archive writer when it stores an event of a date whose cold run is done;
  -- cleared by the cold step (in the same transaction as the replace).
  dirty_since TIMESTAMPTZ
);

-- The archive writer's watermark (SPEC §6.1): every on-time event with event_ts below it is in
-- the lake. One row per archive consumer group; 'infinity' after a bounded source ended.
CREATE TABLE archive_watermark (
  consumer TEXT PRIMARY KEY,
  watermark_ts TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
