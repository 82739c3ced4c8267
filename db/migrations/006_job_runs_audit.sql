-- 006: the audit of the daily flow and backfills (SPEC §6). job_runs holds two kinds of rows:
-- one per run (step IS NULL: who asked for which range, and how the whole run ended) and one per
-- attempt of a step on a date (step and range_from = range_to set). job_run_days records how
-- each date of a run ended, so the run row can be closed when the last date settles.

ALTER TABLE job_runs
    ADD COLUMN run_id  TEXT,
    -- The queue's task id: '<run_id>.<step>.<date>'; one successful row per task id at most.
    ADD COLUMN task_id TEXT,
    ADD COLUMN attempt INT CHECK (attempt >= 1),
    ADD COLUMN error   TEXT;

-- not_ready: the step found its input incomplete and will be retried; abandoned: a worker shut
-- down mid-step and handed the task back to the queue.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_outcome_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_outcome_check
    CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled', 'not_ready', 'abandoned'));

CREATE UNIQUE INDEX job_runs_run_row_key ON job_runs (run_id) WHERE step IS NULL;
CREATE INDEX job_runs_run_steps_idx ON job_runs (run_id, range_from, started_at) WHERE step IS NOT NULL;
-- The worker's guard against applying a task twice when the queue forgot it had finished.
CREATE UNIQUE INDEX job_runs_task_succeeded_key ON job_runs (task_id) WHERE outcome = 'succeeded';

CREATE TABLE job_run_days (
    run_id     TEXT        NOT NULL,
    event_date DATE        NOT NULL,
    outcome    TEXT        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'cancelled')),
    error      TEXT,
    settled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT job_run_days_pkey PRIMARY KEY (run_id, event_date)
);
