-- grain: see sql/staging/events.sql. The incremental night (sql/staging/events_affected.sql): the
-- rebuilt messages (events_affected) are deleted (their rows: events_stale) and rebuilt from their raw
-- rows (events_input); the rows of visitors whose contact changed get it (events_repointed). The
-- visitors of every old and new version are queued for the sessions build, each with the earliest
-- time its events changed at (from_ts): its sessions before that stay as they are
-- (sql/staging/sessions_merge.sql). A NULL from_ts (no timestamp) queues all of its sessions. The
-- re-pointed visitors' events go to build_state.sessions_repointed: only their sessions' contacts change.
-- build_state.content_events is kept in step.

-- re-pointed visitors left over from an events build whose sessions were not built since: their rows
-- there may be out of date now, so their sessions are rebuilt whole instead
insert into build_state.sessions_pending
select distinct visitor_key, null::timestamp from build_state.sessions_repointed;
delete from build_state.sessions_repointed;

-- first, while the rowids are the ones events_affected.sql read
update staging.events as e
set contact_id = r.contact_id
from events_repointed as r
where e.rowid = r.event_row and e.contact_id is distinct from r.contact_id;

-- the re-pointed visitors' events for the sessions build (build_state.sql says why)
insert into build_state.sessions_repointed
select visitor, ts, message_id, is_bot, contact_id from events_repointed where visitor is not null;

insert into build_state.sessions_pending
select visitor, min(ts) from events_stale where visitor is not null group by visitor;

delete from staging.events where rowid in (select stale_row from events_stale);

create or replace temp table events_rebuilt as
select * from staging_events_transform($bot_patterns, $form_events);

insert into staging.events
select * from events_rebuilt;

-- build_state.content_events follows staging.events (build_state.sql): the re-pointed rows' contact,
-- the rebuilt messages' rows out (events_affected: every deleted row is one of theirs) and back in.
-- No spec (no copy yet, or a full build emptied it): the subquery is NULL and nothing is inserted.
update build_state.content_events as c
set contact_id = r.contact_id
from events_repointed as r
where c.message_id = r.message_id and c.contact_id is distinct from r.contact_id;

delete from build_state.content_events where message_id in (select message_id from events_affected);

insert into build_state.content_events
select message_id, contact_id, event, content_topic, content_id, page_path, ts, is_bot
from events_rebuilt
where list_contains((select any_value(events) from build_state.content_events_spec), event);

-- the new versions' visitors, from their raw copies (a superset of the survivors' visitors: an extra
-- visitor only has its sessions rebuilt as they were), not from another scan of staging.events
insert into build_state.sessions_pending
select visitor_key(anonymous_id, user_id) as visitor, min(ts)
from events_input
where visitor is not null
group by visitor;
