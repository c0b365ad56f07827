-- grain: none. The hash build_state.raw_message_days stores and sql/staging/events_affected.sql looks
-- up, defined once (a temp macro; assets/staging/incremental.py creates it before either runs, and it
-- is in the table's fingerprint: another hash means another table).
create or replace temp macro message_hash(message_id) as hash(message_id);
