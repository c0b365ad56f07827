-- grain: one row per session with a contact (staging.sessions): the touches of every contact.
create or replace temp view touch_sessions as
select contact_id, session_id, started_at, source, medium, campaign, is_direct
from staging.sessions
where contact_id is not null;
