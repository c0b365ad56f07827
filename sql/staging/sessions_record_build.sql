-- grain: none. Record that staging.sessions is up to date with staging.events (build_state).
delete from build_state.builds where model = 'sessions';
insert into build_state.builds values ('sessions', $fingerprint, $recorded_at);
delete from build_state.sessions_pending;
delete from build_state.sessions_repointed;
