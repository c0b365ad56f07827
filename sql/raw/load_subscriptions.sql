-- grain: one row per data row of crm/subscriptions.csv (full snapshot, canonical format, in the temp
-- view crm_mapped). A row without subscription_id, or with a value that does not parse, goes to
-- raw.quarantine (source 'subscriptions') instead.
-- crm_typed keeps every row with its _problems ('' = none; sql/raw/quarantine_crm_rows.sql quarantines
-- the others); crm_rows_subscriptions holds the table's new rows (sql/raw/replace_crm_tables.sql puts them in).
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select
        *,
        raw_integer(seats_purchased) as seats_purchased_value,
        raw_integer(seats_active) as seats_active_value,
        raw_number(mrr) as mrr_value,
        raw_timestamp(started_at) as started_at_value,
        raw_timestamp(ends_at) as ends_at_value
    from source
)
select
    *,
    concat_ws('; ',
        case when subscription_id is null then 'missing subscription_id' end,
        raw_bad_value('not a whole number', 'seats_purchased', seats_purchased, seats_purchased_value),
        raw_bad_value('not a whole number', 'seats_active', seats_active, seats_active_value),
        raw_bad_value('not a number', 'mrr', mrr, mrr_value),
        raw_bad_value('unparseable date', 'started_at', started_at, started_at_value),
        raw_bad_value('unparseable date', 'ends_at', ends_at, ends_at_value)
    ) as _problems
from typed;

-- in raw.subscriptions's column order
create or replace temp table crm_rows_subscriptions as
select
    subscription_id, account_id, plan, seats_purchased_value, seats_active_value, mrr_value,
    started_at_value, ends_at_value, status, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';
