-- grain: one row per data row of crm/accounts.csv (full snapshot; any vendor format, already mapped to
-- canonical column names in the temp view crm_mapped). A row without account_id, or with a value that
-- does not parse, goes to raw.quarantine (source 'accounts') instead.
-- crm_typed keeps every row with its _problems ('' = none; sql/raw/quarantine_crm_rows.sql quarantines
-- the others); crm_rows_accounts holds the table's new rows (sql/raw/replace_crm_tables.sql puts them in).
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select
        *,
        raw_number(annual_revenue) as annual_revenue_value,
        raw_timestamp(created_at) as created_at_value
    from source
)
select
    *,
    concat_ws('; ',
        case when account_id is null then 'missing account_id' end,
        case when not raw_is_employee_count(employee_count, $employee_count_pattern)
            then 'not an employee count (integer or range) in employee_count: ''' || left(employee_count, 200) || '''' end,
        raw_bad_value('not a number', 'annual_revenue', annual_revenue, annual_revenue_value),
        raw_bad_value('unparseable date', 'created_at', created_at, created_at_value)
    ) as _problems
from typed;

-- in raw.accounts's column order
create or replace temp table crm_rows_accounts as
select
    account_id, name, domain, industry, employee_count, annual_revenue_value, country, city, state, zip,
    created_at_value, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';
