-- grain: see sql/staging/events.sql. The incremental night (sql/staging/events_affected.sql): the
-- rebuilt messages (events_affected) are deleted (their rows: events_stale) and rebuilt from their raw
-- rows (events_input); the rows of visitors whose contact changed get it (events_repointed). The
-- visitors of every old and new version are queued for the sessions build, each with the earliest
-- time its events changed at (from_ts): its sessions before that stay as they are
-- (sql/staging/sessions_merge.sql). A NULL from_ts (no timestamp) queues all of its sessions. The
-- re-pointed visitors' events go to build_state.sessions_repointed: only their sessions' contacts change.

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

insert into staging.events
select * from staging_events_transform($bot_patterns, $form_events);

-- the new versions' visitors, from their raw copies (a superset of the survivors' visitors: an extra
-- visitor only has its sessions rebuilt as they were), not from another scan of staging.events
insert into build_state.sessions_pending
select visitor_key(anonymous_id, user_id) as visitor, min(ts)
from events_input
where visitor is not null
group by visitor;
