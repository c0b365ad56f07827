-- grain: one row per data row of crm/opportunities.csv (full snapshot; any vendor format, already
-- mapped to canonical column names in the temp view crm_mapped). A row without opportunity_id, or with
-- a value that does not parse, goes to raw.quarantine (source 'opportunities'); the table is replaced.
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
),
checked as (
    select
        * exclude (raw_text),
        concat_ws('; ',
            case when opportunity_id is null then 'missing opportunity_id' end,
            raw_bad_value('not a number', 'amount', amount, amount_value),
            raw_bad_value('unparseable date', 'created_at', created_at, created_at_value),
            raw_bad_value('unparseable date', 'closed_at', closed_at, closed_at_value),
            raw_bad_value('not true/false', 'is_won', is_won, is_won_value)
        ) as _problems,
        raw_text
    from typed
)
-- the row's text is rebuilt only for quarantined rows
select * exclude (raw_text), case when _problems <> '' then raw_text end as raw_text
from checked;

delete from raw.opportunities;
insert into raw.opportunities
select
    opportunity_id, account_id, contact_id, type, stage, amount_value, created_at_value, closed_at_value,
    is_won_value, $source_file, _line, $format, _extra, $loaded_at
from crm_typed
where _problems = '';

delete from raw.quarantine where source = 'opportunities';
insert into raw.quarantine (source, source_file, line, reason, raw_text, event_date, loaded_at)
select 'opportunities', $source_file, _line, _problems, raw_text, null, $loaded_at
from crm_typed
where _problems <> ''
order by _line;
