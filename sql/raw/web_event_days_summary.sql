-- grain: one row: how many event days raw.web_events holds rows of, the first and the last (text,
-- null when none). From raw.load_log, which the loader writes in the same transaction as the day's
-- rows (sql/raw/load_web_event_days.sql): a day whose lines were all quarantined has no rows. Reading
-- the log instead of the table keeps this a few hundred rows whatever the history.
select
    count(*) as days,
    min(event_date)::varchar as first_day,
    max(event_date)::varchar as last_day
from raw.load_log
where source = 'web_events' and rows_loaded > 0;
