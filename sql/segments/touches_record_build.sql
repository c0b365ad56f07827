-- grain: none. Record that build_state.contact_touches is up to date with staging.sessions: the queue
-- emptied, the logic it was computed with recorded (build_state).
delete from build_state.touches_pending;
delete from build_state.builds where model = 'contact_touches';
insert into build_state.builds values ('contact_touches', $fingerprint, $recorded_at);
