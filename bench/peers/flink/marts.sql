-- Flink SQL peer of tidemark's hot marts (SPEC §4.1–§4.3), run by FlinkPeer.java. Statements are
-- separated by lines holding only ";". The topic is read from its earliest offsets up to the end
-- offsets found at start (bounded), so the job ends when it has caught up; at that end Flink
-- closes every window, the harness compares only those tidemark's watermark has passed.
CREATE TABLE events (
  event_id STRING,
  event_ts STRING,
  session_id STRING,
  document_id STRING,
  title STRING,
  clinical_area STRING,
  -- Epoch milliseconds (the benchmark's events); the JSON number arrives here as its text.
  ts AS CAST(TO_TIMESTAMP_LTZ(CAST(event_ts AS BIGINT), 3) AS TIMESTAMP(3)),
  WATERMARK FOR ts AS ts - INTERVAL '10' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = '${topic}',
  'properties.bootstrap.servers' = '${brokers}',
  'properties.group.id' = '${group}',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
)
;
CREATE TEMPORARY VIEW ev AS
SELECT event_id, session_id, CAST(document_id AS BIGINT) AS document_id, title,
       COALESCE(NULLIF(clinical_area, ''), 'unknown') AS clinical_area, ts
FROM events
;
CREATE TABLE pg_traffic (
  event_minute TIMESTAMP(3),
  total_clicks BIGINT,
  unique_sessions BIGINT,
  unique_docs BIGINT,
  PRIMARY KEY (event_minute) NOT ENFORCED
) WITH (
  'connector' = 'jdbc', 'url' = '${jdbc_url}', 'username' = '${db_user}', 'password' = '${db_password}',
  'table-name' = 'flink_traffic_minute', 'sink.buffer-flush.max-rows' = '5000'
)
;
CREATE TABLE pg_top_docs (
  snapshot_ts TIMESTAMP(3),
  `rank` INT,
  document_id BIGINT,
  title STRING,
  click_count BIGINT,
  unique_sessions BIGINT,
  PRIMARY KEY (snapshot_ts, `rank`) NOT ENFORCED
) WITH (
  'connector' = 'jdbc', 'url' = '${jdbc_url}', 'username' = '${db_user}', 'password' = '${db_password}',
  'table-name' = 'flink_top_docs_1h', 'sink.buffer-flush.max-rows' = '5000'
)
;
CREATE TABLE pg_clinical_trend (
  snapshot_ts TIMESTAMP(3),
  clinical_area STRING,
  click_count BIGINT,
  unique_sessions BIGINT,
  trend_pct DECIMAL(10, 2),
  PRIMARY KEY (snapshot_ts, clinical_area) NOT ENFORCED
) WITH (
  'connector' = 'jdbc', 'url' = '${jdbc_url}', 'username' = '${db_user}', 'password' = '${db_password}',
  'table-name' = 'flink_clinical_trend_24h', 'sink.buffer-flush.max-rows' = '5000'
)
;
INSERT INTO pg_traffic
SELECT window_start, COUNT(*), COUNT(DISTINCT session_id), COUNT(DISTINCT document_id)
FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end
;
-- The title of the latest event with a title (ties: greatest event_id) is the MAX of a key that
-- sorts like (event time, event_id): fixed-width time digits, the id, then \u0001 (below any
-- character of an id, so "e1" sorts before "e10") and the title after it.
INSERT INTO pg_top_docs
SELECT window_end, CAST(rn AS INT), document_id,
       SUBSTRING(title_key FROM POSITION(CHR(1) IN title_key) + 1), click_count, unique_sessions
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end
                               ORDER BY click_count DESC, unique_sessions DESC, document_id ASC) AS rn
  FROM (
    SELECT window_start, window_end, document_id, COUNT(*) AS click_count,
           COUNT(DISTINCT session_id) AS unique_sessions,
           MAX(CASE WHEN title IS NOT NULL
                    THEN CONCAT(DATE_FORMAT(ts, 'yyyyMMddHHmmssSSS'), event_id, CHR(1), title) END) AS title_key
    FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR))
    GROUP BY window_start, window_end, document_id
  )
)
WHERE rn <= 20
;
CREATE TEMPORARY VIEW area_24h AS
SELECT window_end AS t, clinical_area, COUNT(*) AS c, COUNT(DISTINCT session_id) AS u
FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '5' MINUTE, INTERVAL '24' HOUR))
GROUP BY window_start, window_end, clinical_area
;
-- The previous 24 h of snapshot T is the same aggregate at T − 24 h: a full outer join keeps the
-- areas that fell to zero. trend_pct is rounded half away from zero in integer arithmetic
-- (hundredths: x = 10000·(c − p); |x|/p rounded = floor((2|x| + p) / 2p)), exact at any size.
INSERT INTO pg_clinical_trend
SELECT t, clinical_area, c, u,
       CASE WHEN p IS NULL THEN CAST(NULL AS DECIMAL(10, 2))
            ELSE CAST(CAST(SIGN(x) * ((2 * ABS(x) + p) - MOD(2 * ABS(x) + p, 2 * p)) / (2 * p) AS DECIMAL(20, 0)) / 100 AS DECIMAL(10, 2)) END
FROM (
  SELECT COALESCE(cur_w.t, prev_w.t + INTERVAL '24' HOUR) AS t,
         COALESCE(cur_w.clinical_area, prev_w.clinical_area) AS clinical_area,
         COALESCE(cur_w.c, 0) AS c, COALESCE(cur_w.u, 0) AS u, prev_w.c AS p,
         10000 * (COALESCE(cur_w.c, 0) - prev_w.c) AS x
  FROM area_24h AS cur_w
  FULL OUTER JOIN area_24h AS prev_w
    ON cur_w.t = prev_w.t + INTERVAL '24' HOUR AND cur_w.clinical_area = prev_w.clinical_area
)
