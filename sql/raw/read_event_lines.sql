-- grain: one row per line of one web event day file (web/events/YYYY-MM-DD.jsonl) that is valid
-- UTF-8, as text, numbered in read order (`_row`; the file line is computed with web_line_steps). Lines DuckDB cannot read (bad UTF-8, longer than
-- max_line_size) land in web_reject_errors with their line number and text.
-- The file is read as one text column: chr(1) as delimiter and no quote character, because a JSON
-- line can hold any character a CSV reader would interpret (raw chr(1) cannot appear in valid JSON).
-- strict_mode = false lets \n and \r\n line ends both through (strict mode rejects a stray \r).
drop table if exists web_reject_errors;
drop table if exists web_reject_scans;

create or replace temp table web_lines_read as
select row_number() over () as _row, text
from read_csv(
    $path, columns = {'text': 'VARCHAR'}, header = false, auto_detect = false,
    delim = chr(1), quote = '', escape = '', strict_mode = false, max_line_size = 8388608,
    store_rejects = true, rejects_table = 'web_reject_errors', rejects_scan = 'web_reject_scans'
);

-- Read line k sits on line k + (number of rejected lines before it). `web_line_steps` holds, per
-- rejected stretch, how many lines were read before it; the load joins it with ASOF (no header, and
-- blank lines come through as rows here, so nothing else shifts the count).
create or replace temp table web_line_steps as
with rejected as (
    select line, row_number() over (order by line) as j
    from (select distinct line::bigint as line from web_reject_errors)
)
select line - j as read_before, max(j) as skipped from rejected group by all;
