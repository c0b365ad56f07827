-- grain: one row per raw web event day loaded, reloaded or gone since a model (identity_map, events)
-- was built: raw.load_log against build_state.built_days. A table macro for the incremental builds
-- (assets/staging/incremental.py), created only on those nights (it needs raw.load_log).
create or replace temp macro changed_web_days(built_model) as table
    select event_date from (
        (select event_date, loaded_at from raw.load_log where source = 'web_events' and event_date is not null
         except select event_date, loaded_at from build_state.built_days where model = built_model)
        union all
        (select event_date, loaded_at from build_state.built_days where model = built_model
         except select event_date, loaded_at from raw.load_log where source = 'web_events' and event_date is not null)
    )
    group by event_date;
