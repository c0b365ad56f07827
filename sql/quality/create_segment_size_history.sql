-- grain: one row per (run_id, table_name, dimension, value): a segment's size after a run that built it.
-- The drift checks compare today's sizes with the newest rows of an earlier run.
create schema if not exists quality;

create table if not exists quality.segment_size_history (
    run_id varchar not null,
    data_date date not null,
    table_name varchar not null,
    dimension varchar not null,
    value varchar not null,
    n bigint not null,
    recorded_at timestamp not null
);
