-- grain: one row per data row of crm/contacts.csv (full snapshot; any vendor format, already mapped to
-- canonical column names in the temp view crm_mapped). A row without contact_id, or with a value that
-- does not parse, goes to raw.quarantine (source 'contacts') instead.
-- crm_typed keeps every row with its _problems ('' = none; sql/raw/quarantine_crm_rows.sql quarantines
-- the others); crm_rows_contacts holds the table's new rows (sql/raw/replace_crm_tables.sql puts them in).
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select
        *,
        raw_boolean(email_opt_out, $true_values, $false_values) as email_opt_out_value,
        raw_timestamp(created_at) as created_at_value,
        raw_timestamp(updated_at) as updated_at_value
    from source
)
select
    *,
    concat_ws('; ',
        case when contact_id is null then 'missing contact_id' end,
        raw_bad_value('not true/false', 'email_opt_out', email_opt_out, email_opt_out_value),
        raw_bad_value('unparseable date', 'created_at', created_at, created_at_value),
        raw_bad_value('unparseable date', 'updated_at', updated_at, updated_at_value)
    ) as _problems
from typed;

-- in raw.contacts's column order
create or replace temp table crm_rows_contacts as
select
    contact_id, account_id, email, first_name, last_name, job_title, phone, city, state, zip, country,
    lead_source, lifecycle_stage, email_opt_out_value, created_at_value, updated_at_value,
    $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';
