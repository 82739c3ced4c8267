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
-- Measured on PGlite with the store's own insert (bench/session-rows-bench.ts; 965,000 sessions
-- of one day with the demo's ids 's-1000001'…, written sorted by session_id in the cold step's
-- chunks; sizes by pg_relation_size):
--                                   heap B/row   key B/row   total B/row   MB per 965k-session day
--   before (001 + 009)              TBD
--   after (this file)               TBD
--   this file run on the 'before' table (the copy below): TBD
-- A heap tuple is its 24-byte header plus the columns, rounded up to 8 bytes, plus a 4-byte line
-- pointer: 16 (timestamps) + 16 (date, three INTs) + 10 (a 9-character session_id with its 1-byte
-- length) = 42 bytes of columns make 72 + 4 per row, where 001's order with computed_at made 80 + 4.
-- (Two bytes less of columns would reach the next step, 64: no narrower type fits these values.)
-- A key entry is an 8-byte index tuple header + DATE + session_id, rounded to 24, + 4.
--
-- A rebuild, not ALTER TABLE … DROP COLUMN: a dropped column keeps its bytes in every stored row
-- until the row is rewritten, and no ALTER reorders columns. The new table gets the old name, the
-- same columns, CHECK constraints (same names), key and privileges; nothing else depends on it
-- (the dashboards read the rollups of 020/021, which are their own tables). The old table is
-- dropped without CASCADE: if someone built a view on it, this migration stops instead of
-- silently dropping their view.

ALTER TABLE mart_session_analysis RENAME TO mart_session_analysis_wide;
ALTER TABLE mart_session_analysis_wide RENAME CONSTRAINT mart_session_analysis_pkey TO mart_session_analysis_wide_pkey;

CREATE TABLE mart_session_analysis (
    first_click_ts       TIMESTAMPTZ  NOT NULL,
    last_click_ts        TIMESTAMPTZ  NOT NULL,
    event_date           DATE         NOT NULL,
    click_count          INT          NOT NULL CONSTRAINT mart_session_analysis_click_count_check CHECK (click_count >= 0),
    unique_docs          INT          NOT NULL CONSTRAINT mart_session_analysis_unique_docs_check CHECK (unique_docs >= 0),
    session_duration_sec INT          NOT NULL CONSTRAINT mart_session_analysis_session_duration_sec_check CHECK (session_duration_sec >= 0),
    session_id           VARCHAR(128) NOT NULL CONSTRAINT mart_session_analysis_session_id_check CHECK (session_id <> ''),
    CONSTRAINT session_click_order CHECK (first_click_ts <= last_click_ts),
    CONSTRAINT session_docs_le_clicks CHECK (unique_docs <= click_count)
);

-- Key order, so the heap is in the order the cold step will keep appending; the key is built
-- after the copy (one sort, leaf pages packed to the fillfactor) instead of entry by entry.
INSERT INTO mart_session_analysis (first_click_ts, last_click_ts, event_date, click_count, unique_docs, session_duration_sec, session_id)
SELECT first_click_ts, last_click_ts, event_date, click_count, unique_docs, session_duration_sec, session_id
FROM mart_session_analysis_wide
ORDER BY event_date, session_id;

ALTER TABLE mart_session_analysis
    ADD CONSTRAINT mart_session_analysis_pkey PRIMARY KEY (event_date, session_id) WITH (fillfactor = 100);

-- Full refresh's staging table (005) must stay "refresh_id, then LIKE the mart": its swap copies
-- the registry's columns across. Its rows only live during a refresh, which deletes them when it
-- ends, so it is made anew rather than copied.
DROP TABLE cold_refresh_session_analysis;
CREATE TABLE cold_refresh_session_analysis (refresh_id TEXT NOT NULL, LIKE mart_session_analysis INCLUDING DEFAULTS);
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
