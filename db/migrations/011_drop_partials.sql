-- The hot path no longer writes per-partition partials or a row per pending event (see
-- 010_stream_combiner.sql): their tables go.
DROP TABLE IF EXISTS hot_partial_traffic;
DROP TABLE IF EXISTS hot_partial_top_docs;
DROP TABLE IF EXISTS hot_partial_clinical_trend;
DROP TABLE IF EXISTS stream_pending_events;
