-- 030: who runs what (SPEC §6). A process that runs steps (`worker`, `backfill` on its in-process
-- queue, the demo) registers as an owner and beats a heartbeat; its step attempts, and the runs it
-- alone can finish (in-process ones), carry its id. At start-up a process marks `abandoned` the
-- running rows whose owner has stopped beating, so a run killed by SIGKILL does not stay
-- `running` for ever; the steps are idempotent, so such a run can be resumed.
CREATE TABLE job_owners (
    owner        TEXT        PRIMARY KEY,
    host         TEXT        NOT NULL,
    pid          INT         NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- NULL: a BullMQ run (workers anywhere finish it) or a row written before this migration.
ALTER TABLE job_runs ADD COLUMN owner TEXT;
CREATE INDEX job_runs_running_owner_idx ON job_runs (owner) WHERE outcome = 'running';
