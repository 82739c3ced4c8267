-- 001: the marts of SPEC §4–§5 and the bookkeeping tables of §2, §3 and §6.
--
-- Conventions: instants are TIMESTAMPTZ; ids VARCHAR(128); document_id BIGINT (read back as a
-- string, never rounded); counts INT with CHECK (>= 0) so that a bug surfaces as a failed write
-- instead of a wrong dashboard. "Aligned to the minute" is checked with extract(epoch …), which
-- unlike date_trunc does not depend on the session's TimeZone.
-- Runs in one transaction (see src/io/db/migrate.ts); never edit it once released.

-- ---------------------------------------------------------------------------------------------
-- Hot marts (SPEC §4). Written by the stream, rewritten by the daily reconcile. is_final: the
-- watermark has passed the row's window, so the row will not change until reconcile.

CREATE TABLE mart_realtime_traffic_minute (
    event_minute    TIMESTAMPTZ NOT NULL,
    total_clicks    INT         NOT NULL CHECK (total_clicks >= 0),
    unique_sessions INT         NOT NULL CHECK (unique_sessions >= 0),
    unique_docs     INT         NOT NULL CHECK (unique_docs >= 0),
    is_final        BOOLEAN     NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT mart_realtime_traffic_minute_pkey PRIMARY KEY (event_minute),
    CONSTRAINT traffic_minute_aligned CHECK (extract(epoch FROM event_minute) % 60 = 0),
    CONSTRAINT traffic_minute_distinct_le_total
        CHECK (unique_sessions <= total_clicks AND unique_docs <= total_clicks)
);
-- Dashboards read the newest minutes: the primary key's b-tree serves ORDER BY … DESC as is.

CREATE TABLE mart_realtime_top_docs_1h (
    snapshot_ts     TIMESTAMPTZ   NOT NULL,
    rank            INT           NOT NULL CHECK (rank BETWEEN 1 AND 20),
    document_id     BIGINT        NOT NULL CHECK (document_id >= 0),
    title           VARCHAR(1000),
    click_count     INT           NOT NULL CHECK (click_count >= 0),
    unique_sessions INT           NOT NULL CHECK (unique_sessions >= 0),
    is_final        BOOLEAN       NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT mart_realtime_top_docs_1h_pkey PRIMARY KEY (snapshot_ts, rank),
    CONSTRAINT top_docs_aligned CHECK (extract(epoch FROM snapshot_ts) % 60 = 0),
    CONSTRAINT top_docs_sessions_le_clicks CHECK (unique_sessions <= click_count),
    -- A document holds one rank per snapshot. Deferred, so that a single upsert statement may
    -- swap two documents' ranks; it is also the index for "rank of document X over time".
    CONSTRAINT top_docs_one_rank_per_document UNIQUE (snapshot_ts, document_id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX mart_realtime_top_docs_1h_document_idx ON mart_realtime_top_docs_1h (document_id, snapshot_ts DESC);

CREATE TABLE mart_realtime_clinical_trend_24h (
    snapshot_ts     TIMESTAMPTZ   NOT NULL,
    clinical_area   VARCHAR(200)  NOT NULL CHECK (clinical_area <> ''),
    click_count     INT           NOT NULL CHECK (click_count >= 0),
    unique_sessions INT           NOT NULL CHECK (unique_sessions >= 0),
    trend_pct       NUMERIC(10,2),
    is_final        BOOLEAN       NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT mart_realtime_clinical_trend_24h_pkey PRIMARY KEY (snapshot_ts, clinical_area),
    CONSTRAINT clinical_trend_sessions_le_clicks CHECK (unique_sessions <= click_count),
    -- 100 × (now − prev) / prev is never below −100 (an area that fell to zero).
    CONSTRAINT clinical_trend_pct_range CHECK (trend_pct >= -100)
);
-- Per-area time series (Superset line charts) read by area first.
CREATE INDEX mart_realtime_clinical_trend_24h_area_idx
    ON mart_realtime_clinical_trend_24h (clinical_area, snapshot_ts DESC);

CREATE TABLE mart_realtime_anomaly_sessions (
    detected_ts  TIMESTAMPTZ  NOT NULL,
    session_id   VARCHAR(128) NOT NULL CHECK (session_id <> ''),
    window_start TIMESTAMPTZ  NOT NULL,
    window_end   TIMESTAMPTZ  NOT NULL,
    click_count  INT          NOT NULL CHECK (click_count >= 0),
    severity     VARCHAR(8)   NOT NULL CHECK (severity IN ('WARNING', 'CRITICAL')),
    is_final     BOOLEAN      NOT NULL DEFAULT false,
    updated_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT mart_realtime_anomaly_sessions_pkey PRIMARY KEY (detected_ts, session_id),
    CONSTRAINT anomaly_window_order CHECK (window_start < detected_ts AND detected_ts <= window_end)
);
-- The stream continues a session's open episode and the console shows a session's history.
CREATE INDEX mart_realtime_anomaly_sessions_session_idx
    ON mart_realtime_anomaly_sessions (session_id, detected_ts DESC);

-- ---------------------------------------------------------------------------------------------
-- Cold marts (SPEC §5): one full recompute per event_date (MART_TIMEZONE), replaced atomically
-- with DELETE + INSERT of the day in one transaction. computed_at: when that recompute ran.

CREATE TABLE mart_session_analysis (
    session_id           VARCHAR(128) NOT NULL CHECK (session_id <> ''),
    event_date           DATE         NOT NULL,
    click_count          INT          NOT NULL CHECK (click_count >= 0),
    unique_docs          INT          NOT NULL CHECK (unique_docs >= 0),
    first_click_ts       TIMESTAMPTZ  NOT NULL,
    last_click_ts        TIMESTAMPTZ  NOT NULL,
    session_duration_sec INT          NOT NULL CHECK (session_duration_sec >= 0),
    computed_at          TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT mart_session_analysis_pkey PRIMARY KEY (session_id, event_date),
    CONSTRAINT session_click_order CHECK (first_click_ts <= last_click_ts),
    CONSTRAINT session_docs_le_clicks CHECK (unique_docs <= click_count)
);
-- The key starts with session_id; replacing and reading a day needs event_date first.
CREATE INDEX mart_session_analysis_date_idx ON mart_session_analysis (event_date, click_count DESC);

CREATE TABLE mart_daily_traffic (
    event_date       DATE        NOT NULL,
    total_events     INT         NOT NULL CHECK (total_events >= 0),
    unique_sessions  INT         NOT NULL CHECK (unique_sessions >= 0),
    unique_documents INT         NOT NULL CHECK (unique_documents >= 0),
    peak_hour        INT         NOT NULL CHECK (peak_hour BETWEEN 0 AND 23),
    computed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT mart_daily_traffic_pkey PRIMARY KEY (event_date),
    CONSTRAINT daily_traffic_distinct_le_total
        CHECK (unique_sessions <= total_events AND unique_documents <= total_events)
);

CREATE TABLE mart_clinical_areas (
    event_date      DATE         NOT NULL,
    clinical_area   VARCHAR(200) NOT NULL CHECK (clinical_area <> ''),
    search_count    INT          NOT NULL CHECK (search_count >= 0),
    unique_sessions INT          NOT NULL CHECK (unique_sessions >= 0),
    computed_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT mart_clinical_areas_pkey PRIMARY KEY (event_date, clinical_area),
    CONSTRAINT clinical_areas_sessions_le_count CHECK (unique_sessions <= search_count)
);

CREATE TABLE mart_popular_documents (
    event_date      DATE          NOT NULL,
    document_id     BIGINT        NOT NULL CHECK (document_id >= 0),
    title           VARCHAR(1000),
    view_count      INT           NOT NULL CHECK (view_count >= 0),
    unique_sessions INT           NOT NULL CHECK (unique_sessions >= 0),
    computed_at     TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT mart_popular_documents_pkey PRIMARY KEY (event_date, document_id),
    CONSTRAINT popular_documents_sessions_le_views CHECK (unique_sessions <= view_count)
);
-- "Top N documents of day D" without sorting the whole day.
CREATE INDEX mart_popular_documents_top_idx ON mart_popular_documents (event_date, view_count DESC, document_id);

-- ---------------------------------------------------------------------------------------------
-- Rejected and late input (SPEC §2, §3). The unique source position makes a replay after a
-- crash idempotent: INSERT … ON CONFLICT (source, kafka_partition, kafka_offset) DO NOTHING.
-- Retention deletes by received_at (dead letters) and event_ts (late events) in batches.

CREATE TABLE dead_letter_events (
    id              BIGSERIAL   PRIMARY KEY,
    source          TEXT        NOT NULL,
    kafka_partition INT         NOT NULL CHECK (kafka_partition >= 0),
    kafka_offset    BIGINT      NOT NULL CHECK (kafka_offset >= 0),
    raw_bytes       BYTEA,
    raw_text        TEXT,
    reason          TEXT        NOT NULL CHECK (reason <> ''),
    detail          TEXT,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT dead_letter_events_position_key UNIQUE (source, kafka_partition, kafka_offset)
);
CREATE INDEX dead_letter_events_received_at_idx ON dead_letter_events (received_at);

CREATE TABLE late_events (
    id              BIGSERIAL     PRIMARY KEY,
    source          TEXT          NOT NULL,
    kafka_partition INT           NOT NULL CHECK (kafka_partition >= 0),
    kafka_offset    BIGINT        NOT NULL CHECK (kafka_offset >= 0),
    event_id        VARCHAR(128)  NOT NULL CHECK (event_id <> ''),
    event_ts        TIMESTAMPTZ   NOT NULL,
    session_id      VARCHAR(128)  NOT NULL CHECK (session_id <> ''),
    document_id     BIGINT        NOT NULL CHECK (document_id >= 0),
    title           VARCHAR(1000),
    clinical_area   VARCHAR(200)  NOT NULL CHECK (clinical_area <> ''),
    watermark_ts    TIMESTAMPTZ   NOT NULL,
    received_at     TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT late_events_position_key UNIQUE (source, kafka_partition, kafka_offset),
    -- Late means strictly before the watermark at arrival (SPEC §3).
    CONSTRAINT late_events_before_watermark CHECK (event_ts < watermark_ts)
);
-- Reconcile counts the late events of a day; retention deletes old ones.
CREATE INDEX late_events_event_ts_idx ON late_events (event_ts);

-- ---------------------------------------------------------------------------------------------
-- Daily flow bookkeeping (SPEC §6).

CREATE TABLE reconcile_reports (
    mart          TEXT        NOT NULL,
    event_date    DATE        NOT NULL,
    rows_compared INT         NOT NULL CHECK (rows_compared >= 0),
    rows_changed  INT         NOT NULL CHECK (rows_changed >= 0),
    rows_added    INT         NOT NULL CHECK (rows_added >= 0),
    rows_removed  INT         NOT NULL CHECK (rows_removed >= 0),
    max_abs_diff  NUMERIC     NOT NULL DEFAULT 0 CHECK (max_abs_diff >= 0),
    late_events   INT         NOT NULL DEFAULT 0 CHECK (late_events >= 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- created_at defaults to the transaction's start: one report per (mart, day) per transaction.
    CONSTRAINT reconcile_reports_pkey PRIMARY KEY (mart, event_date, created_at)
);
-- The console lists the latest drift across marts.
CREATE INDEX reconcile_reports_created_at_idx ON reconcile_reports (created_at DESC);

CREATE TABLE quality_results (
    id          BIGSERIAL   PRIMARY KEY,
    check_name  TEXT        NOT NULL,
    -- NULL for checks that span marts (the Σ invariants of SPEC §6).
    mart        TEXT,
    event_date  DATE        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    observed    TEXT,
    expected    TEXT,
    checked_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX quality_results_date_idx ON quality_results (event_date, checked_at DESC);
CREATE INDEX quality_results_not_passed_idx ON quality_results (checked_at DESC) WHERE status <> 'pass';

CREATE TABLE job_runs (
    id           BIGSERIAL   PRIMARY KEY,
    job          TEXT        NOT NULL,
    step         TEXT,
    range_from   DATE,
    range_to     DATE,
    requested_by TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    outcome      TEXT        NOT NULL DEFAULT 'running'
                             CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled')),
    detail       JSONB,
    CONSTRAINT job_runs_range_order CHECK (range_from <= range_to),
    -- A run is finished exactly when it has an outcome other than running.
    CONSTRAINT job_runs_finished_iff_done CHECK ((outcome = 'running') = (finished_at IS NULL)),
    CONSTRAINT job_runs_finish_after_start CHECK (finished_at >= started_at)
);
CREATE INDEX job_runs_started_at_idx ON job_runs (started_at DESC);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_running_idx ON job_runs (job) WHERE outcome = 'running';

-- ---------------------------------------------------------------------------------------------
-- Anomaly alert outbox (SPEC §4.4): the stream inserts one row per (session, episode, severity)
-- in its batch transaction (ON CONFLICT DO NOTHING makes a replay silent); a sender delivers
-- undelivered rows and stamps delivered_at.

CREATE TABLE anomaly_alerts (
    session_id   VARCHAR(128) NOT NULL CHECK (session_id <> ''),
    detected_ts  TIMESTAMPTZ  NOT NULL,
    severity     VARCHAR(8)   NOT NULL CHECK (severity IN ('WARNING', 'CRITICAL')),
    click_count  INT          NOT NULL CHECK (click_count >= 0),
    raised_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    payload      JSONB        NOT NULL,
    delivered_at TIMESTAMPTZ,
    attempts     INT          NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   TEXT,
    CONSTRAINT anomaly_alerts_pkey PRIMARY KEY (session_id, detected_ts, severity)
);
CREATE INDEX anomaly_alerts_pending_idx ON anomaly_alerts (raised_at) WHERE delivered_at IS NULL;
CREATE INDEX anomaly_alerts_raised_at_idx ON anomaly_alerts (raised_at DESC);
