-- The peers' own tables, in the same database as tidemark's marts so that every engine pays for
-- the same sink. Times are UTC instants stored as timestamp (the peers write them from JVMs
-- running in UTC); counts are bigint because that is what the engines' COUNT returns.
CREATE TABLE flink_traffic_minute (
  event_minute timestamp PRIMARY KEY,
  total_clicks bigint NOT NULL,
  unique_sessions bigint NOT NULL,
  unique_docs bigint NOT NULL
);
CREATE TABLE flink_top_docs_1h (
  snapshot_ts timestamp NOT NULL,
  rank int NOT NULL,
  document_id bigint NOT NULL,
  title varchar(1000),
  click_count bigint NOT NULL,
  unique_sessions bigint NOT NULL,
  PRIMARY KEY (snapshot_ts, rank)
);
CREATE TABLE flink_clinical_trend_24h (
  snapshot_ts timestamp NOT NULL,
  clinical_area varchar(200) NOT NULL,
  click_count bigint NOT NULL,
  unique_sessions bigint NOT NULL,
  trend_pct numeric(10, 2),
  PRIMARY KEY (snapshot_ts, clinical_area)
);
CREATE TABLE spark_traffic_minute (LIKE flink_traffic_minute INCLUDING ALL);
COMMENT ON COLUMN spark_traffic_minute.unique_sessions IS 'approximate: approx_count_distinct (HyperLogLog++, rsd 0.05)';
COMMENT ON COLUMN spark_traffic_minute.unique_docs IS 'approximate: approx_count_distinct (HyperLogLog++, rsd 0.05)';
-- Spark cannot rank inside a streaming aggregation: it keeps the per-(hour window, document)
-- aggregate here and foreachBatch re-ranks the snapshots a batch touched.
CREATE TABLE spark_doc_counts_1h (
  snapshot_ts timestamp NOT NULL,
  document_id bigint NOT NULL,
  title varchar(1000),
  click_count bigint NOT NULL,
  unique_sessions bigint NOT NULL,
  PRIMARY KEY (snapshot_ts, document_id)
);
COMMENT ON COLUMN spark_doc_counts_1h.unique_sessions IS 'approximate: approx_count_distinct (HyperLogLog++, rsd 0.05)';
CREATE TABLE spark_top_docs_1h (LIKE flink_top_docs_1h INCLUDING ALL);
COMMENT ON COLUMN spark_top_docs_1h.unique_sessions IS 'approximate: approx_count_distinct (HyperLogLog++, rsd 0.05); it also breaks click_count ties, so ranks may differ';
CREATE UNLOGGED TABLE spark_stage_traffic (LIKE spark_traffic_minute);
CREATE UNLOGGED TABLE spark_stage_doc_counts (LIKE spark_doc_counts_1h);
