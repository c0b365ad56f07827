-- grain: one row per email_normalized; used when the optional crm/suppressions.csv was never landed
-- (no raw.suppressions table): an empty staging.suppressions with the contract's columns.
create schema if not exists staging;

create or replace table staging.suppressions (
    email_normalized varchar,
    reason varchar,
    added_at timestamp
);
