-- grain: one row per data row of crm/suppressions.csv (optional full snapshot, in the temp view
-- crm_mapped; no file = an empty table). A row without email, or with an unparseable added_at, goes
-- to raw.quarantine (source 'suppressions') instead.
-- crm_typed keeps every row with its _problems ('' = none; sql/raw/quarantine_crm_rows.sql quarantines
-- the others); crm_rows_suppressions holds the table's new rows (sql/raw/replace_crm_tables.sql puts them in).
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select *, raw_timestamp(added_at) as added_at_value from source
)
select
    *,
    concat_ws('; ',
        case when email is null then 'missing email' end,
        raw_bad_value('unparseable date', 'added_at', added_at, added_at_value)
    ) as _problems
from typed;

-- in raw.suppressions's column order
create or replace temp table crm_rows_suppressions as
select email, reason, added_at_value, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';
