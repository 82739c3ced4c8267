-- 00: the two login roles of a tidemark deployment. Cluster-wide, so this file runs once per
-- cluster; 10-grants.sql then runs in the tidemark database.
--
--   tidemark_rw  the engine (stream, archive, worker, console): runs the migrations, so it owns
--                every table it creates in schema public.
--   tidemark_ro  Superset and other readers: SELECT only.
--
-- Passwords never live in the repository. psql takes them from, in order:
--   1. psql variables:  psql -v tidemark_rw_password=… -v tidemark_ro_password=… -f 00-roles.sql
--   2. the environment: TIDEMARK_RW_PASSWORD and TIDEMARK_RO_PASSWORD (\getenv, psql ≥ 15).
-- The postgres image's entrypoint runs /docker-entrypoint-initdb.d/*.sql with psql in the
-- container's environment, so docker-compose.yaml passes both variables to the postgres service.
--
-- Idempotent: re-running it keeps the roles, resets their attributes and sets the given
-- passwords (that is also how to rotate them). Neither role gets superuser, CREATEDB,
-- CREATEROLE, replication or BYPASSRLS: a leaked engine password must not own the cluster.

\if :{?tidemark_rw_password}
\else
\getenv tidemark_rw_password TIDEMARK_RW_PASSWORD
\endif
\if :{?tidemark_ro_password}
\else
\getenv tidemark_ro_password TIDEMARK_RO_PASSWORD
\endif

\if :{?tidemark_rw_password}
\else
\set tidemark_rw_password ''
\endif
\if :{?tidemark_ro_password}
\else
\set tidemark_ro_password ''
\endif

-- psql does not substitute variables inside dollar-quoted DO bodies: hand the passwords over as
-- session settings (local to this connection, never written to disk).
SELECT set_config('tidemark.rw_password', :'tidemark_rw_password', false),
       set_config('tidemark.ro_password', :'tidemark_ro_password', false) \gset tidemark_ignored_

DO $$
DECLARE
  rw_password text := current_setting('tidemark.rw_password');
  ro_password text := current_setting('tidemark.ro_password');
BEGIN
  IF rw_password = '' THEN
    RAISE EXCEPTION 'no password for tidemark_rw: set TIDEMARK_RW_PASSWORD or psql -v tidemark_rw_password=…';
  END IF;
  IF ro_password = '' THEN
    RAISE EXCEPTION 'no password for tidemark_ro: set TIDEMARK_RO_PASSWORD or psql -v tidemark_ro_password=…';
  END IF;

  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tidemark_rw') THEN
    CREATE ROLE tidemark_rw;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tidemark_ro') THEN
    CREATE ROLE tidemark_ro;
  END IF;

  EXECUTE format(
    'ALTER ROLE tidemark_rw WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %L',
    rw_password);
  -- A bounded number of connections: a runaway dashboard cannot starve the engine.
  EXECUTE format(
    'ALTER ROLE tidemark_ro WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 50 PASSWORD %L',
    ro_password);
END
$$;

-- Dashboards must not hold the engine's locks for long or run away with the server.
ALTER ROLE tidemark_ro SET statement_timeout = '60s';
ALTER ROLE tidemark_ro SET idle_in_transaction_session_timeout = '60s';

-- Forget the passwords for the rest of this connection.
SELECT set_config('tidemark.rw_password', '', false), set_config('tidemark.ro_password', '', false) \gset tidemark_ignored_
