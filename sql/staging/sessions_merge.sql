-- grain: see sql/staging/sessions.sql. The incremental night: the sessions of the visitors queued in
-- build_state.sessions_pending are rebuilt from all their events (sessions_input).
create or replace temp table sessions_visitors as
select distinct visitor_key from build_state.sessions_pending;

create or replace temp table sessions_input as
select rowid as event_row, *
from staging.events
where coalesce('a:' || anonymous_id, 'u:' || user_id) in (select visitor_key from sessions_visitors);
