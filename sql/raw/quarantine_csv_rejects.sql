-- grain: one quarantine row (crm_quarantine_pending, sql/raw/crm_pending.sql) per line of a CRM file
-- that DuckDB could not parse into fields (wrong number of fields, bad UTF-8, an unterminated quote).
-- raw_text is DuckDB's copy of the line (invalid bytes shown as '?').
insert into crm_quarantine_pending (source, source_file, line, reason, raw_text, event_date, loaded_at)
select
    $source,
    $source_file,
    line::bigint,
    string_agg(distinct
        case error_type::varchar
            when 'INVALID ENCODING' then 'bad encoding: not valid UTF-8'
            when 'MISSING COLUMNS' then 'too few fields for the header'
            when 'TOO MANY COLUMNS' then 'too many fields for the header'
            when 'UNQUOTED VALUE' then 'broken quoting: unterminated or stray quote'
            when 'LINE SIZE OVER MAXIMUM' then 'line too long'
            else 'unreadable row: ' || lower(error_type::varchar)
        end, '; '),
    trim(any_value(csv_line), chr(10) || chr(13)),
    null::date,
    $loaded_at
from crm_reject_errors
group by line
order by line;
