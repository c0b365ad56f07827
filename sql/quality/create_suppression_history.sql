-- grain: one row per data_date: how many suppressed emails staging.suppressions held that night and
-- whether crm/suppressions.csv was there. The suppression check compares tonight with the newest
-- earlier night whose recording run passed its blocking checks (quality.passed_nights).
create schema if not exists quality;

create table if not exists quality.suppression_history (
    data_date date not null,
    run_id varchar not null,
    file_present boolean not null,
    n bigint not null,
    recorded_at timestamp not null
);
