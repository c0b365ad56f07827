-- grain: one row: the newest landed web-event day (null when nothing has landed).
select max(event_date) as newest_event_date
from raw.web_events;
