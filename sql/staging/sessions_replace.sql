-- grain: see sql/staging/sessions.sql. The full build: staging.sessions from every event; the sessions
-- suite is to check the whole table, and every contact's touches to be recomputed (a NULL row in
-- each queue).
create or replace table staging.sessions as
select * from staging_sessions_transform($session_timeout_minutes, $own_domains, $search_sources);

delete from build_state.unchecked_rows where table_name = 'staging.sessions';
insert into build_state.unchecked_rows values ('staging.sessions', null);

delete from build_state.touches_pending;
insert into build_state.touches_pending values (null);
