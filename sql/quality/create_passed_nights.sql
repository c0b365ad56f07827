-- grain: one row per data_date: the run that last got that night through every blocking check (its
-- audiences and exports ran). Baselines (segment-size drift, suppression counts) come only from such
-- a night and only from the sizes that run recorded, so a blocked night, or a blocked re-run of a good
-- night, never becomes the next night's baseline.
create schema if not exists quality;

create table if not exists quality.passed_nights (
    data_date date not null,
    run_id varchar not null,
    recorded_at timestamp not null
);
