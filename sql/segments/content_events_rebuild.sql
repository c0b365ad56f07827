-- grain: one row per staging.events row whose event is one of $events (config/content.yaml
-- counted_events), with the columns the content interests read: build_state.content_events, made from
-- all events when it has another spec (or none: first night, after a full events build). The
-- incremental events build keeps it in step from then on (sql/staging/events_merge.sql), so a night
-- reads ~1% of the events instead of scanning all of them. The spec: the names sorted and distinct,
-- and $fingerprint (of this file: another definition of the copy means another copy).
create or replace table build_state.content_events as
select message_id, contact_id, event, content_topic, content_id, page_path, ts, is_bot
from staging.events
where list_contains($events::varchar[], event);

delete from build_state.content_events_spec;
insert into build_state.content_events_spec values (list_sort(list_distinct($events::varchar[])), $fingerprint);
