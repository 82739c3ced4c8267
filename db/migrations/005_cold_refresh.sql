-- 005: staging tables for the full refresh of the cold marts (SPEC §6, `--full-refresh`).
-- A refresh recomputes every date into these tables first (tagged with its refresh_id, so two
-- refreshes never mix), then swaps each mart in one transaction: DELETE all + INSERT … SELECT
-- from here. Readers of a mart see the whole old table or the whole new one.
-- Not a rename swap: ALTER TABLE … RENAME needs an ACCESS EXCLUSIVE lock (every reader waits)
-- and Superset datasets, views and grants follow the table's OID, so they would keep pointing at
-- the renamed-away old table.

CREATE TABLE cold_refresh_session_analysis (refresh_id TEXT NOT NULL, LIKE mart_session_analysis INCLUDING DEFAULTS);
CREATE INDEX cold_refresh_session_analysis_idx ON cold_refresh_session_analysis (refresh_id);

CREATE TABLE cold_refresh_daily_traffic (refresh_id TEXT NOT NULL, LIKE mart_daily_traffic INCLUDING DEFAULTS);
CREATE INDEX cold_refresh_daily_traffic_idx ON cold_refresh_daily_traffic (refresh_id);

CREATE TABLE cold_refresh_clinical_areas (refresh_id TEXT NOT NULL, LIKE mart_clinical_areas INCLUDING DEFAULTS);
CREATE INDEX cold_refresh_clinical_areas_idx ON cold_refresh_clinical_areas (refresh_id);

CREATE TABLE cold_refresh_popular_documents (refresh_id TEXT NOT NULL, LIKE mart_popular_documents INCLUDING DEFAULTS);
CREATE INDEX cold_refresh_popular_documents_idx ON cold_refresh_popular_documents (refresh_id);
