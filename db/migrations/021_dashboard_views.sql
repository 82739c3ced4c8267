-- 021: the clicks-per-session distribution by weekday over the newest 28 days of data, for the
-- dashboards' box plot: five rows per weekday (p10, p25, p50, p75, p90 of clicks per session,
-- pooled over that weekday's days). Superset's box plot computes its quartiles from the rows it
-- gets; given exactly these five values (and min/max whiskers) it draws the exact quartiles and
-- the 10th/90th percentiles as whiskers, instead of summarising a row-limited sample of sessions.
--
-- Computed at query time from mart_session_clicks (a few hundred rows a day), so the window
-- always ends at the newest day like the other "newest N days" filters; same rule as
-- percentile_disc: the value at row ceil(fraction × sessions) in click order.
CREATE VIEW dash_session_clicks_by_weekday (weekday, stat, clicks, sessions) AS
WITH window_days AS (
    SELECT to_char(event_date, 'ID Dy') AS weekday, click_count, sum(sessions)::bigint AS sessions
    FROM mart_session_clicks
    WHERE event_date > (SELECT max(event_date) FROM mart_session_clicks) - 28
    GROUP BY 1, 2
), cumulative AS (
    SELECT weekday, click_count,
           sum(sessions) OVER (PARTITION BY weekday ORDER BY click_count) AS up_to,
           sum(sessions) OVER (PARTITION BY weekday) AS total
    FROM window_days
), stats (stat, fraction) AS (
    VALUES ('p10', 0.10::float8), ('p25', 0.25::float8), ('p50', 0.50::float8), ('p75', 0.75::float8), ('p90', 0.90::float8)
)
SELECT c.weekday, s.stat, min(c.click_count) AS clicks, max(c.total) AS sessions
FROM cumulative c CROSS JOIN stats s
WHERE c.up_to >= greatest(1, ceil(s.fraction * c.total::float8))
GROUP BY c.weekday, s.stat;
