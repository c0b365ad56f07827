-- grain: one row per data row of crm/suppressions.csv (optional full snapshot, in the temp view
-- crm_mapped; no file = an empty table). A row without email, or with an unparseable added_at, goes
-- to raw.quarantine (source 'suppressions') instead; the table is replaced.
create or replace temp table crm_typed as
with source as (
    select * from crm_mapped
),
typed as (
    select *, raw_timestamp(added_at) as added_at_value from source
),
checked as (
    select
        * exclude (raw_text),
        concat_ws('; ',
            case when email is null then 'missing email' end,
            raw_bad_value('unparseable date', 'added_at', added_at, added_at_value)
        ) as _problems,
        raw_text
    from typed
)
-- the row's text is rebuilt only for quarantined rows
select * exclude (raw_text), case when _problems <> '' then raw_text end as raw_text
from checked;

delete from raw.suppressions;
insert into raw.suppressions
select email, reason, added_at_value, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';

delete from raw.quarantine where source = 'suppressions';
insert into raw.quarantine (source, source_file, line, reason, raw_text, event_date, loaded_at)
select 'suppressions', $source_file, _line, _problems, raw_text, null, $loaded_at
from crm_typed
where _problems <> ''
order by _line;
