-- grain: one row per session of a contact queued in build_state.touches_pending (its sessions changed
-- since build_state.contact_touches was updated).
create or replace temp view touch_sessions as
select contact_id, session_id, started_at, source, medium, campaign, is_direct
from staging.sessions
where contact_id in (select contact_id from build_state.touches_pending);
