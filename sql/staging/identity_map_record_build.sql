-- grain: none. Record what build_state.identity_evidence (and so staging.identity_map) was just built
-- from (build_state, see build_state.sql).
delete from build_state.builds where model = 'identity_map';
insert into build_state.builds values ('identity_map', $fingerprint, $recorded_at);

delete from build_state.built_days where model = 'identity_map';
insert into build_state.built_days
select 'identity_map', event_date, loaded_at from raw.load_log where source = 'web_events' and event_date is not null;
