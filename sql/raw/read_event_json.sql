-- grain: one row per non-blank line of a batch of web event day files (the same $paths, in the same
-- order, as sql/raw/read_event_lines.sql), typed by DuckDB's JSON reader (`web_json_rows(paths)`):
-- the fast path of the load.
-- A row's position among its file's non-blank lines (the reader skips lines of whitespace only) is
-- `_global_row` minus web_json_starts.rows_before. A line the reader cannot take (broken JSON, bad
-- UTF-8, not an object, a field of another shape) comes through as a row of NULLs (ignore_errors),
-- so the positions still count every line. sql/raw/load_web_event_days.sql checks them against the
-- text read before it trusts them, and diagnoses from its text every row that is not plainly good.
create or replace temp macro web_json_rows(paths) as table
select
    row_number() over () as _global_row,
    filename as source_file,
    nullif(trim_fast(messageId), '') as message_id,
    coalesce(type, action) as type,  -- the Segment B2B spec examples write "action"
    event,
    nullif(trim_fast(anonymousId), '') as anonymous_id,
    nullif(trim_fast(userId), '') as user_id,
    raw_timestamp(trim_fast(timestamp)) as ts,
    context.page.url as page_url,
    context.page.path as page_path,
    context.page.referrer as page_referrer,
    context.page.title as page_title,
    context.campaign.source as campaign_source,
    context.campaign.medium as campaign_medium,
    context.campaign.name as campaign_name,
    context.campaign.term as campaign_term,
    context.campaign.content as campaign_content,
    context.userAgent as user_agent,
    traits.email as traits_email,
    properties
from read_json(
    paths, format = 'newline_delimited', filename = true, ignore_errors = true,
    maximum_object_size = 16777216,
    columns = {
        'messageId': 'VARCHAR', 'type': 'VARCHAR', 'action': 'VARCHAR', 'event': 'VARCHAR',
        'anonymousId': 'VARCHAR', 'userId': 'VARCHAR', 'timestamp': 'VARCHAR',
        'context': 'STRUCT(
            page STRUCT(url VARCHAR, path VARCHAR, referrer VARCHAR, title VARCHAR),
            campaign STRUCT(source VARCHAR, medium VARCHAR, name VARCHAR, term VARCHAR, content VARCHAR),
            userAgent VARCHAR)',
        'traits': 'STRUCT(email VARCHAR)',
        'properties': 'JSON'
    }
);

-- The narrow copy the checks need; the load reads the typed rows again, which costs less than keeping
-- them in a temp table (measured).
create or replace temp table web_json_read as
select _global_row, source_file, message_id is not null and ts is not null as is_good
from web_json_rows($paths);

-- per file: how many rows the files before it gave, and its own
create or replace temp table web_json_starts as
select source_file, min(_global_row) - 1 as rows_before, count(*) as n_rows
from web_json_read
group by source_file;
