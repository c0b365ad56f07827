-- grain: see sql/staging/sessions.sql. The full build: staging.sessions from every event.
create or replace table staging.sessions as
select * from staging_sessions_transform($session_timeout_minutes, $own_domains, $search_sources);
