-- 050: mart_session_analysis rebuilt in the narrowest layout its columns allow, because cold marts
-- are kept for ever (SPEC §6) and this one gets a row per session per day (~965k a day in the
-- embedded demo, 2.2M at 10M events a day): every byte of a row is ~1 MB a day in the demo.
--
-- What changes, and why each saves space:
-- * computed_at goes (8 bytes). SPEC §5 does not list it; the day's recompute time is kept once,
--   in lake_days.cold_computed_at, for every cold mart at once. The other cold marts, a few rows a
--   day, keep theirs.
-- * The columns are ordered widest alignment first (the two TIMESTAMPTZ, then DATE and the INTs,
--   the variable-length session_id last), so no column waits for alignment padding.
-- * The key's B-tree is built with fillfactor 100. The cold step writes a day's rows sorted by
--   session_id under a date newer than every stored one, so they land at the index's right edge,
--   where a page split keeps fillfactor of the old page: at the default 90 every leaf page would
--   stay a tenth empty for ever. (A recomputed old day inserts in the middle and splits pages in
--   half either way; fillfactor does not change that.)
--
-- Measured on PGlite with the cold step's own writes (`node bench/session-rows-bench.ts
-- --sessions 965000 --days 2`: per day one transaction of the day's DELETE and the store's bulk
-- insert in the cold step's chunks, sorted by session_id, ids like the demo's 's-1000001'…);
-- what the second day added, by pg_relation_size of the heap and of the key's B-tree:
--                                heap B/row   key B/row   total B/row   per 965k-session day
--   before (001 + 009)             84.4         31.5        116.0       111.9 MB = 106.7 MiB
--   after (this file)              76.6         28.5        105.1       101.4 MB =  96.7 MiB
-- This file run over the 'before' database's two days (1.93M rows, 3.6 s) leaves the same 76.6 +
-- 28.5 bytes a row; on the PostgreSQL server, over 6.6M rows (three days at 10M events a day),
-- 5.7 s and the same sizes. Until it commits, readers of the table wait (the rename locks it) and
-- the disk holds both copies.
-- Why these figures: a heap tuple is its 24-byte header and the columns, rounded up to 8 bytes,
-- plus a 4-byte line pointer. Here 16 (timestamps) + 16 (DATE, three INTs) + 10 (a 9-character
-- session_id and its 1-byte length) = 66, so 72 + 4 = 76 bytes (107 rows a page); 001's layout
-- had computed_at's 8 and padding before the timestamps: 80 + 4. For the demo's 8- to
-- 10-character ids, dropping computed_at alone would also give 72; the order is what lets ids of
-- up to 7 characters reach the next step down, 64 (in 001's order padding would still make 72).
-- No narrower type fits the values. A key entry is an 8-byte index tuple header + DATE +
-- session_id, rounded up to 24, + 4.
--
-- A rebuild, not ALTER TABLE … DROP COLUMN: a dropped column keeps its bytes in every stored row
-- until the row is rewritten, and no ALTER reorders columns. The new table gets the old name, the
-- same columns, CHECK constraints (same names), key and privileges; nothing else depends on it
-- (the dashboards read the rollups of 020/021, which are their own tables). The old table is
-- dropped without CASCADE: if someone built a view on it, this migration stops instead of
-- silently dropping their view.

ALTER TABLE mart_session_analysis RENAME TO mart_session_analysis_wide;
ALTER TABLE mart_session_analysis_wide RENAME CONSTRAINT mart_session_analysis_pkey TO mart_session_analysis_wide_pkey;

-- session_duration_sec is whole seconds of last − first (SPEC §5), so the table computes it: a
-- generated column, VIRTUAL where the server has it (PostgreSQL 18, which the embedded PGlite
-- is: computed when read, stored in no row), STORED before that (the same bytes as a written
-- column). Writers leave it out (the registry marks it generated). On PGlite the row's columns
-- then take 16 + 12 + 10 = 38 bytes, so a tuple is 64 instead of 72: measured as above,
--   PGlite, session_duration_sec VIRTUAL   68.3         28.5         96.8        93.4 MB =  89.1 MiB
-- epoch of an interval counts a day as 86,400 s, as the engine's (last − first) / 1000 does;
-- floor of the exact numeric = Math.floor.
DO $$
BEGIN
    EXECUTE format($ddl$
        CREATE TABLE mart_session_analysis (
            first_click_ts       TIMESTAMPTZ  NOT NULL,
            last_click_ts        TIMESTAMPTZ  NOT NULL,
            event_date           DATE         NOT NULL,
            click_count          INT          NOT NULL CONSTRAINT mart_session_analysis_click_count_check CHECK (click_count >= 0),
            unique_docs          INT          NOT NULL CONSTRAINT mart_session_analysis_unique_docs_check CHECK (unique_docs >= 0),
            session_duration_sec INT          NOT NULL
                GENERATED ALWAYS AS (floor(extract(epoch FROM last_click_ts - first_click_ts))::int) %s
                CONSTRAINT mart_session_analysis_session_duration_sec_check CHECK (session_duration_sec >= 0),
            session_id           VARCHAR(128) NOT NULL CONSTRAINT mart_session_analysis_session_id_check CHECK (session_id <> ''),
            CONSTRAINT session_click_order CHECK (first_click_ts <= last_click_ts),
            CONSTRAINT session_docs_le_clicks CHECK (unique_docs <= click_count)
        )$ddl$,
        CASE WHEN current_setting('server_version_num')::int >= 180000 THEN 'VIRTUAL' ELSE 'STORED' END);
END
$$;

-- Key order, so the heap is in the order the cold step will keep appending; the key is built
-- after the copy (one sort, leaf pages packed to the fillfactor) instead of entry by entry.
-- The stored durations are not copied: the expression gives them back (the cold step always
-- wrote exactly that value).
INSERT INTO mart_session_analysis (first_click_ts, last_click_ts, event_date, click_count, unique_docs, session_id)
SELECT first_click_ts, last_click_ts, event_date, click_count, unique_docs, session_id
FROM mart_session_analysis_wide
ORDER BY event_date, session_id;

ALTER TABLE mart_session_analysis
    ADD CONSTRAINT mart_session_analysis_pkey PRIMARY KEY (event_date, session_id) WITH (fillfactor = 100);

-- Full refresh's staging table (005) must stay "refresh_id, then LIKE the mart": its swap copies
-- the registry's columns across. Its rows only live during a refresh, which deletes them when it
-- ends, so it is made anew rather than copied.
DROP TABLE cold_refresh_session_analysis;
CREATE TABLE cold_refresh_session_analysis (refresh_id TEXT NOT NULL, LIKE mart_session_analysis INCLUDING DEFAULTS INCLUDING GENERATED);
CREATE INDEX cold_refresh_session_analysis_idx ON cold_refresh_session_analysis (refresh_id);

-- Privileges as the old table had them. Run as tidemark_rw (db/init), the default privileges
-- already give tidemark_ro SELECT on the new tables; this also carries over whatever an
-- operator granted by hand (GRANT of a privilege already held is a no-op). The staging table's
-- only grants are the default ones, which the new staging table gets the same way.
DO $$
DECLARE
    acl record;
BEGIN
    FOR acl IN
        SELECT a.privilege_type, a.grantee, a.is_grantable
        FROM pg_class c, aclexplode(c.relacl) AS a
        WHERE c.oid = 'mart_session_analysis_wide'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format(
            'GRANT %s ON mart_session_analysis TO %s%s',
            acl.privilege_type,
            CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END,
            CASE WHEN acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

DROP TABLE mart_session_analysis_wide;

-- The planner's statistics of the new table (PGlite runs no autovacuum to gather them).
ANALYZE mart_session_analysis;
