-- grain: one raw.web_events row per line of a batch of day files (web/events/YYYY-MM-DD.jsonl, in
-- temp table web_batch_files: path, event_date, file_size, file_mtime) that is a JSON object with a
-- messageId and a parseable timestamp; duplicates are kept (staging dedupes by messageId). Every
-- other line goes to raw.quarantine (source 'web_events', event_date = the file's day).
-- Re-loading a day replaces exactly that day's rows in both tables, and its raw.load_log row.

-- The two reads of the batch: every line as text (sql/raw/read_event_lines.sql) and every non-blank
-- line typed by the JSON reader (sql/raw/read_event_json.sql). Good lines take the typed values; the
-- text is diagnosed (one from_json parse, then the checks below) only for the lines that need it.
create or replace temp view web_text_lines as
select l.source_file, l._global_row - f.rows_before as _row, l.text
from web_lines_read as l
join web_file_starts as f using (source_file);

-- Blank lines (JSON whitespace only, or nothing), which the JSON reader skips (they are quarantined
-- as empty lines), and per file and blank stretch, how many lines came before it, as web_line_steps
-- holds for rejected lines (the line_steps macro).
create or replace temp table web_blank_lines as
select source_file, _row as line
from web_text_lines
where text is null or (not prefix(text, '{') and regexp_full_match(text, '[ \t\n\r\v\f]*'));

create or replace temp table web_blank_steps as select * from line_steps('web_blank_lines');

-- The files whose typed rows line up with their text: no line the text read rejected, and as many
-- typed rows as non-blank lines. Every line of any other file takes the slow path.
create or replace temp table web_fast_files as
select j.source_file
from web_json_starts as j
join (select source_file, count(*) as n_lines from web_lines_read group by all) as t using (source_file)
left join (select source_file, max(skipped) as n_blank from web_blank_steps group by all) as b using (source_file)
where j.n_rows = t.n_lines - coalesce(b.n_blank, 0)
  and j.source_file not in (select source_file from web_line_steps);

-- typed rows of those files on their file line (only files with blank lines pay for the ASOF join)
create or replace temp table web_json_lines as
with positioned as (
    select r._global_row, r.source_file, r.is_good, r._global_row - s.rows_before as _k, b.event_date
    from web_json_read as r
    join web_json_starts as s using (source_file)
    join web_batch_files as b on b.path = r.source_file
    where r.source_file in (select source_file from web_fast_files)
)
select * exclude (_k), _k as _line
from positioned
where source_file not in (select source_file from web_blank_steps)
union all
select p.* exclude (_k), p._k + coalesce(s.skipped, 0)
from (select * from positioned where source_file in (select source_file from web_blank_steps)) as p
asof left join web_blank_steps as s on p.source_file = s.source_file and p._k > s.read_before;

-- The lines the slow path diagnoses: every line of the other files, and the lines of fast files
-- whose typed row is not plainly good (broken JSON, no messageId, no parseable timestamp, ...).
create or replace temp table web_slow_parsed as
with numbered as (
    select l.source_file, b.event_date, l._row, l.text
    from web_text_lines as l
    join web_batch_files as b on b.path = l.source_file
    where l.source_file not in (select source_file from web_fast_files)
),
doubtful as (
    -- in the fast files: blank lines, and lines whose typed row is not plainly good
    select source_file, _line from web_json_lines where not is_good
    union all
    select source_file, line from web_blank_lines where source_file in (select source_file from web_fast_files)
),
source as (
    -- read row k of a file is line k, unless DuckDB rejected lines before it: only the (rare) files
    -- with rejected lines pay for the ASOF join that shifts their rows
    select source_file, event_date, _row as _line, text, json_valid(text) as is_json
    from numbered
    where source_file not in (select source_file from web_line_steps)
    union all
    select n.source_file, n.event_date, n._row + coalesce(s.skipped, 0), n.text, json_valid(n.text)
    from (select * from numbered where source_file in (select source_file from web_line_steps)) as n
    asof left join web_line_steps as s on n.source_file = s.source_file and n._row > s.read_before
    union all
    select l.source_file, b.event_date, l._row, l.text, json_valid(l.text)
    from web_text_lines as l
    join doubtful as d on d.source_file = l.source_file and d._line = l._row
    join web_batch_files as b on b.path = l.source_file
),
objects as (
    -- valid JSON that starts with "{" is an object; one from_json parse extracts every field
    select
        *,
        case when is_json and ltrim(text) like '{%' then from_json(text, '{
            "messageId": "VARCHAR", "type": "VARCHAR", "action": "VARCHAR", "event": "VARCHAR",
            "anonymousId": "VARCHAR", "userId": "VARCHAR", "timestamp": "VARCHAR",
            "context": {
                "page": {"url": "VARCHAR", "path": "VARCHAR", "referrer": "VARCHAR", "title": "VARCHAR"},
                "campaign": {"source": "VARCHAR", "medium": "VARCHAR", "name": "VARCHAR", "term": "VARCHAR", "content": "VARCHAR"},
                "userAgent": "VARCHAR"
            },
            "traits": {"email": "VARCHAR"},
            "properties": "JSON"
        }') end as doc
    from source
),
typed as (
    select
        *,
        nullif(trim_fast(doc.messageId), '') as message_id,
        coalesce(doc.type, doc.action) as type,  -- the Segment B2B spec examples write "action"
        doc.event as event,
        nullif(trim_fast(doc.anonymousId), '') as anonymous_id,
        nullif(trim_fast(doc.userId), '') as user_id,
        doc.timestamp as ts_text,
        raw_timestamp(trim_fast(doc.timestamp)) as ts,
        doc.context.page.url as page_url,
        doc.context.page.path as page_path,
        doc.context.page.referrer as page_referrer,
        doc.context.page.title as page_title,
        doc.context.campaign.source as campaign_source,
        doc.context.campaign.medium as campaign_medium,
        doc.context.campaign.name as campaign_name,
        doc.context.campaign.term as campaign_term,
        doc.context.campaign.content as campaign_content,
        doc.context.userAgent as user_agent,
        doc.traits.email as traits_email,
        doc.properties as properties
    from objects
),
checked as (
    select
        * exclude (text, is_json, doc, ts_text),
        case
            -- the good lines first, on cheap tests: the diagnoses below then only see the few bad ones
            when is_json and doc is not null and message_id is not null and ts is not null then ''
            when text is null or trim(text) = '' then 'empty line'
            when not is_json then 'broken JSON'
            when doc is null then 'not a JSON object'
            when message_id is null then 'missing messageId'
            when ts_text is null then 'missing timestamp'
            when ts is null then 'unparseable timestamp: ''' || left(ts_text, 100) || ''''
            else ''
        end as _problem,
        text
    from typed
)
-- the line's text is kept only for quarantined lines
select * exclude (text), case when _problem <> '' then left(text, 10000) end as raw_text
from checked;

delete from raw.web_events where event_date in (select event_date from web_batch_files);
insert into raw.web_events
select
    l.event_date, r.message_id, r.type, r.event, r.anonymous_id, r.user_id, r.ts, r.page_url, r.page_path,
    r.page_referrer, r.page_title, r.campaign_source, r.campaign_medium, r.campaign_name, r.campaign_term,
    r.campaign_content, r.user_agent, r.traits_email, r.properties, r.source_file, l._line, 'segment',
    null::json, $loaded_at
from web_json_rows($paths) as r
join web_json_lines as l using (_global_row)
where l.is_good
union all
select
    event_date, message_id, type, event, anonymous_id, user_id, ts, page_url, page_path, page_referrer,
    page_title, campaign_source, campaign_medium, campaign_name, campaign_term, campaign_content,
    user_agent, traits_email, properties, source_file, _line, 'segment', null::json, $loaded_at
from web_slow_parsed
where _problem = '';

create or replace temp table web_quarantined as
select 'web_events' as source, source_file, _line as line, _problem as reason, raw_text, event_date
from web_slow_parsed
where _problem <> ''
union all
select 'web_events', r.source_file, r.line,
       case r.error_type
           when 'INVALID ENCODING' then 'bad encoding: not valid UTF-8'
           when 'LINE SIZE OVER MAXIMUM' then 'line too long'
           when 'TOO MANY COLUMNS' then 'broken JSON: control character chr(1) in the line'
           else 'unreadable line: ' || lower(r.error_type)
       end,
       left(r.csv_line, 10000), b.event_date
from web_rejects as r
join web_batch_files as b on b.path = r.source_file;

delete from raw.quarantine where source = 'web_events' and event_date in (select event_date from web_batch_files);
insert into raw.quarantine (source, source_file, line, reason, raw_text, event_date, loaded_at)
select source, source_file, line, reason, raw_text, event_date, $loaded_at
from web_quarantined
order by event_date, line;

delete from raw.load_log where source = 'web_events' and event_date in (select event_date from web_batch_files);
insert into raw.load_log (source, source_file, event_date, file_size, file_mtime, rows_loaded, rows_quarantined, loaded_at)
select
    'web_events', b.path, b.event_date, b.file_size, b.file_mtime,
    coalesce(loaded.n, 0), coalesce(quarantined.n, 0), $loaded_at
from web_batch_files as b
left join (
    select source_file, count(*) as n
    from (select source_file from web_json_lines where is_good
          union all
          select source_file from web_slow_parsed where _problem = '')
    group by all
) as loaded
    on loaded.source_file = b.path
left join (select source_file, count(*) as n from web_quarantined group by all) as quarantined
    on quarantined.source_file = b.path
order by b.event_date;
