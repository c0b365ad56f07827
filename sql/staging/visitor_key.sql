-- grain: none. The one definition of a web visitor's key: its anonymous id ('a:...'), else its user
-- id ('u:...'); NULL without either. Used by the sessions transform and by the incremental events
-- build when it queues visitors for sessions (build_state.sessions_pending); part of every staging
-- model's build fingerprint (assets/staging/incremental.py).
create or replace temp macro visitor_key(anonymous_id, user_id) as coalesce('a:' || anonymous_id, 'u:' || user_id);
