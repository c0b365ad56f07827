-- grain: see sql/staging/raw_message_days_all.sql. The incremental events build replaces the rows of
-- the raw days loaded, reloaded or gone since the table last recorded its days (the loader replaces
-- raw.web_events a whole day at a time, so those are the only days whose raw rows changed; no record:
-- every day).
delete from build_state.raw_message_days
where event_date in (select event_date from changed_web_days('raw_message_days'));

insert into build_state.raw_message_days
select event_date, message_hash(message_id) as message_hash
from raw.web_events
where event_date in (select event_date from changed_web_days('raw_message_days'));
