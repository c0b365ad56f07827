-- grain: none. Record what staging.events was just built from (build_state, see build_state.sql).
delete from build_state.builds where model = 'events';
insert into build_state.builds values ('events', $fingerprint, $recorded_at);

delete from build_state.built_days where model = 'events';
insert into build_state.built_days
select 'events', event_date, loaded_at from raw.load_log where source = 'web_events' and event_date is not null;
