-- grain: one row per raw.web_events row: its landing day and the 64-bit hash of its message id
-- (build_state.raw_message_days). The incremental events build looks tonight's messages up here to
-- find the days their other raw copies (re-deliveries) are on, then reads raw.web_events on those
-- days only (sql/staging/events_affected.sql), instead of matching 20M+ message ids as text. Made from
-- every raw row with each full events build, or when it is missing or was made by another definition
-- or DuckDB version (assets/staging/incremental.py; DuckDB does not promise hash() across versions);
-- kept in step with raw.web_events day by day by sql/staging/raw_message_days_update.sql, from the
-- days it records (sql/staging/raw_message_days_record.sql).
create or replace table build_state.raw_message_days as
select event_date, message_hash(message_id) as message_hash
from raw.web_events;

delete from build_state.builds where model = 'raw_message_days';
insert into build_state.builds values ('raw_message_days', $fingerprint, $recorded_at);
