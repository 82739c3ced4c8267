-- 10: privileges inside the current database (the postgres image runs init files in
-- POSTGRES_DB, which docker-compose.yaml sets to tidemark). Needs 00-roles.sql first and a
-- superuser (or a member of tidemark_rw owning the database) to run it. Idempotent: GRANT and
-- REVOKE of what is already granted or revoked are no-ops.
--
-- Tables are created later, by tidemark_rw running db/migrations, so tidemark_ro's SELECT comes
-- from default privileges on tidemark_rw's future tables; the GRANT … ON ALL TABLES covers a
-- re-run on a database that already holds them.

-- Only the named roles connect or create temporary tables. Both are PUBLIC defaults, and a
-- temporary table is a write the read-only role should not be able to make.
DO $$
BEGIN
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO tidemark_rw', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO tidemark_ro', current_database());
END
$$;

-- PostgreSQL < 15 let every role create objects in public; 15 already revokes it, this keeps
-- older servers and restored dumps in line.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO tidemark_rw;
GRANT USAGE ON SCHEMA public TO tidemark_ro;

-- Existing tables (a re-run after migrations) …
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tidemark_ro;
-- … and every table tidemark_rw creates from now on.
ALTER DEFAULT PRIVILEGES FOR ROLE tidemark_rw IN SCHEMA public GRANT SELECT ON TABLES TO tidemark_ro;
