-- grain: see sql/staging/sessions.sql. Replace the queued visitors' sessions (sessions_merge.sql made
-- the input), empty the queue and queue the visitors for the sessions suite (data_quality), unless it
-- is to check the whole table anyway. The contacts of the replaced and of the new sessions are queued
-- for their touches (build_state.touches_pending).
create or replace temp table sessions_rebuilt as
select * from staging_sessions_transform($session_timeout_minutes, $own_domains, $search_sources);

insert into build_state.touches_pending
select distinct contact_id from staging.sessions
where visitor_key in (select visitor_key from sessions_visitors) and contact_id is not null
union
select distinct contact_id from sessions_rebuilt where contact_id is not null;

delete from staging.sessions where visitor_key in (select visitor_key from sessions_visitors);

insert into staging.sessions
select * from sessions_rebuilt;

drop table sessions_rebuilt;

delete from build_state.sessions_pending;

insert into build_state.unchecked_rows
select 'staging.sessions', visitor_key from sessions_visitors
where not exists (select 1 from build_state.unchecked_rows where table_name = 'staging.sessions' and key is null);
