-- grain: none. The raw web event days (as raw.load_log has them) build_state.raw_message_days now
-- mirrors: the next events build replaces the rows of the days that differ (changed_web_days).
delete from build_state.built_days where model = 'raw_message_days';
insert into build_state.built_days
select 'raw_message_days', event_date, loaded_at from raw.load_log where source = 'web_events' and event_date is not null;
