-- grain: see sql/staging/sessions.sql. Give the re-pointed visitors' kept sessions their recomputed
-- contact and replace the queued visitors' sessions from their rebuild_from on (sessions_merge.sql
-- found both and made the input), empty the queue and the hand-off, and queue the visitors for the
-- sessions suite (data_quality), unless it is to check the whole table anyway. The contacts of the
-- replaced, new and re-contacted sessions are queued for their touches (build_state.touches_pending).
create or replace temp table sessions_rebuilt as
select * from staging_sessions_transform($session_timeout_minutes, $own_domains, $search_sources);

update staging.sessions as s
set contact_id = r.contact_id
from sessions_recontacted as r
where s.rowid = r.session_row and s.contact_id is distinct from r.contact_id;

insert into build_state.touches_pending
select contact_id from sessions_replaced where contact_id is not null
union
select contact_id from sessions_rebuilt where contact_id is not null
union
select contact_id from (
    select unnest([old_contact_id, contact_id]) as contact_id
    from sessions_recontacted
    where old_contact_id is distinct from contact_id
)
where contact_id is not null;

delete from staging.sessions where rowid in (select session_row from sessions_replaced);

insert into staging.sessions
select * from sessions_rebuilt;

drop table sessions_rebuilt;

delete from build_state.sessions_pending;
delete from build_state.sessions_repointed;

insert into build_state.unchecked_rows
select 'staging.sessions', visitor_key from sessions_changed_visitors
where not exists (select 1 from build_state.unchecked_rows where table_name = 'staging.sessions' and key is null);
