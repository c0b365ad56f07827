-- grain: see sql/staging/sessions.sql. Replace the queued visitors' sessions (sessions_merge.sql made
-- the input) and empty the queue.
delete from staging.sessions where visitor_key in (select visitor_key from sessions_visitors);

insert into staging.sessions
select * from staging_sessions_transform($session_timeout_minutes, $own_domains, $search_sources);

delete from build_state.sessions_pending;
