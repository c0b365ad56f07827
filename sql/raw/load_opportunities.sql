-- grain: one row per data row of crm/opportunities.csv (full snapshot; any vendor format, already
-- mapped to canonical column names in the temp view crm_mapped). A row without opportunity_id, or with
-- a value that does not parse, goes to raw.quarantine (source 'opportunities').
-- crm_typed keeps every row with its _problems ('' = none; sql/raw/quarantine_crm_rows.sql quarantines
-- the others); crm_rows_opportunities holds the table's new rows (sql/raw/replace_crm_tables.sql puts them in).
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select
        *,
        raw_number(amount) as amount_value,
        raw_timestamp(created_at) as created_at_value,
        raw_timestamp(closed_at) as closed_at_value,
        raw_boolean(is_won, $true_values, $false_values) as is_won_value
    from source
)
select
    *,
    concat_ws('; ',
        case when opportunity_id is null then 'missing opportunity_id' end,
        raw_bad_value('not a number', 'amount', amount, amount_value),
        raw_bad_value('unparseable date', 'created_at', created_at, created_at_value),
        raw_bad_value('unparseable date', 'closed_at', closed_at, closed_at_value),
        raw_bad_value('not true/false', 'is_won', is_won, is_won_value)
    ) as _problems
from typed;

-- in raw.opportunities's column order
create or replace temp table crm_rows_opportunities as
select
    opportunity_id, account_id, contact_id, type, stage, amount_value, created_at_value, closed_at_value,
    is_won_value, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';
