-- grain: one row per line of a batch of web event day files (web/events/YYYY-MM-DD.jsonl, listed in
-- temp table web_batch_files) that is valid UTF-8, as text, with its file and its read position in
-- the batch (`_global_row`; minus web_file_starts.rows_before: the position in its file, from which
-- web_line_steps gives the file line). Lines DuckDB cannot read (bad
-- UTF-8, longer than max_line_size) land in web_reject_errors with their file, line number and text.
-- The files are read as one text column: chr(1) as delimiter and no quote character, because a JSON
-- line can hold any character a CSV reader would interpret (raw chr(1) cannot appear in valid JSON).
-- strict_mode = false lets \n and \r\n line ends both through (strict mode rejects a stray \r).
-- One read for the whole batch: DuckDB reads the files in list order and keeps that order, so a
-- row's position in its file is its global position minus the rows of the files before it.
drop table if exists web_reject_errors;
drop table if exists web_reject_scans;

create or replace temp table web_lines_read as
select row_number() over () as _global_row, filename as source_file, text
from read_csv(
    $paths, columns = {'text': 'VARCHAR'}, header = false, auto_detect = false, filename = true,
    delim = chr(1), quote = '', escape = '', strict_mode = false, max_line_size = 8388608,
    store_rejects = true, rejects_table = 'web_reject_errors', rejects_scan = 'web_reject_scans'
);

-- per file, how many rows the files before it gave (a file with no readable line has no row here)
create or replace temp table web_file_starts as
select source_file, min(_global_row) - 1 as rows_before from web_lines_read group by source_file;

-- rejected lines with the file they are in
create or replace temp table web_rejects as
select s.file_path as source_file, e.line::bigint as line, e.error_type::varchar as error_type, e.csv_line
from web_reject_errors as e
join web_reject_scans as s using (scan_id, file_id);

-- Read line k of a file sits on line k + (number of rejected lines before it in that file).
-- `web_line_steps` holds, per file and rejected stretch, how many lines were read before it; the
-- load joins it with ASOF (no header, and blank lines come through as rows here, so nothing else
-- shifts the count).
create or replace temp table web_rejected_lines as select distinct source_file, line from web_rejects;
create or replace temp table web_line_steps as select * from line_steps('web_rejected_lines');
