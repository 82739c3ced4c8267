-- 020: daily session rollups for the dashboards (exact distributions at any scale).
--
-- A chart that asks Superset for a distribution of mart_session_analysis (2.2M rows a day at 10M
-- events) either bins a row-limited sample or groups millions of rows per request. These small
-- marts hold the exact answer instead. They are cold marts: the cold step computes them from the
-- day's mart_session_analysis rows inside the transaction that replaces the day, so a reader
-- sees the old day or the new one, the sessions and their rollups always agreeing; a full
-- refresh recomputes them with the session swap. Retention keeps them, like every cold mart.

-- Fixed histogram buckets, one row per bucket: [lower_bound, upper_bound), the last one open.
-- The labels sort in bucket order as text (Superset orders a categorical axis by its label).
CREATE TABLE session_histogram_buckets (
    measure      VARCHAR(16) NOT NULL CHECK (measure IN ('duration_sec', 'clicks')),
    bucket       SMALLINT    NOT NULL CHECK (bucket >= 1),
    lower_bound  INT         NOT NULL CHECK (lower_bound >= 0),
    upper_bound  INT         CHECK (upper_bound > lower_bound),
    label        VARCHAR(32) NOT NULL,
    CONSTRAINT session_histogram_buckets_pkey PRIMARY KEY (measure, bucket)
);

INSERT INTO session_histogram_buckets (measure, bucket, lower_bound, upper_bound, label) VALUES
    ('duration_sec', 1, 0, 10, '00:00–00:10'),
    ('duration_sec', 2, 10, 30, '00:10–00:30'),
    ('duration_sec', 3, 30, 60, '00:30–01:00'),
    ('duration_sec', 4, 60, 120, '01:00–02:00'),
    ('duration_sec', 5, 120, 300, '02:00–05:00'),
    ('duration_sec', 6, 300, 600, '05:00–10:00'),
    ('duration_sec', 7, 600, 1200, '10:00–20:00'),
    ('duration_sec', 8, 1200, 1800, '20:00–30:00'),
    ('duration_sec', 9, 1800, 3600, '30:00–60:00'),
    ('duration_sec', 10, 3600, NULL, '60:00 and more'),
    ('clicks', 1, 0, 2, '001'),
    ('clicks', 2, 2, 3, '002'),
    ('clicks', 3, 3, 4, '003'),
    ('clicks', 4, 4, 5, '004'),
    ('clicks', 5, 5, 6, '005'),
    ('clicks', 6, 6, 11, '006–010'),
    ('clicks', 7, 11, 21, '011–020'),
    ('clicks', 8, 21, 51, '021–050'),
    ('clicks', 9, 51, 101, '051–100'),
    ('clicks', 10, 101, NULL, '101 and more');

-- Sessions per bucket and day; every bucket has a row, empty ones with 0.
CREATE TABLE mart_session_histogram (
    event_date   DATE        NOT NULL,
    measure      VARCHAR(16) NOT NULL,
    bucket       SMALLINT    NOT NULL,
    lower_bound  INT         NOT NULL,
    upper_bound  INT,
    label        VARCHAR(32) NOT NULL,
    sessions     INT         NOT NULL CHECK (sessions >= 0),
    computed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT mart_session_histogram_pkey PRIMARY KEY (event_date, measure, bucket)
);

-- Exact percentiles of a day's sessions, PostgreSQL's percentile_disc: the smallest value whose
-- share of the day's sessions, counted from the bottom, reaches the fraction.
CREATE TABLE mart_session_percentiles (
    event_date   DATE          NOT NULL,
    measure      VARCHAR(16)   NOT NULL CHECK (measure IN ('duration_sec', 'clicks')),
    sessions     INT           NOT NULL CHECK (sessions > 0),
    min_value    INT           NOT NULL,
    p25          INT           NOT NULL,
    p50          INT           NOT NULL,
    p75          INT           NOT NULL,
    p90          INT           NOT NULL,
    p99          INT           NOT NULL,
    max_value    INT           NOT NULL,
    mean         NUMERIC(14, 2) NOT NULL,
    computed_at  TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT mart_session_percentiles_pkey PRIMARY KEY (event_date, measure),
    CONSTRAINT session_percentiles_order CHECK (min_value <= p25 AND p25 <= p50 AND p50 <= p75 AND p75 <= p90 AND p90 <= p99 AND p99 <= max_value)
);

-- Sessions per exact click count and day: a few hundred rows a day, from which the quantiles of
-- any set of days (a weekday over four weeks) follow exactly.
CREATE TABLE mart_session_clicks (
    event_date   DATE        NOT NULL,
    click_count  INT         NOT NULL CHECK (click_count >= 0),
    sessions     INT         NOT NULL CHECK (sessions > 0),
    computed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT mart_session_clicks_pkey PRIMARY KEY (event_date, click_count)
);

-- Full refresh recomputes the rollups from the swapped sessions inside that transaction, so it
-- needs no staging tables of its own.
