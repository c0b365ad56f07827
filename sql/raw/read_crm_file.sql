-- grain: one row per data row of one CRM landing file (crm/<entity>.csv) that DuckDB could parse,
-- with `_line` (1-based, header = 1). Rows DuckDB rejects (wrong field count, bad UTF-8, broken
-- quoting) land in crm_reject_errors with their line and text; quarantine_csv_rejects.sql moves them.
-- Columns are named c1..cN by position so no header text is ever spliced into SQL.
drop table if exists crm_reject_errors;
drop table if exists crm_reject_scans;

-- In file order (DuckDB keeps insertion order while preserve_insertion_order is on, which load_crm
-- makes sure of), so rowid + 1 numbers the rows: a row_number() window here read the file on one
-- thread (1.5s instead of 0.85s for 1M contacts).
create or replace temp table crm_parsed as
select *
from read_csv(
    $path, header = true, auto_detect = false, columns = $columns,
    delim = ',', quote = '"', escape = '"',
    store_rejects = true, rejects_table = 'crm_reject_errors', rejects_scan = 'crm_reject_scans'
);

-- Lines that produced no row: rejected ones, and blank lines (DuckDB skips them but counts them).
-- Parsed row k sits on line 1 + k + (number of such lines before it), found with an ASOF join on
-- the steps of the line_steps macro, counted in data lines (the header is line 1).
create or replace temp table crm_skipped as
select distinct $path as source_file, line - 1 as line
from (
    select line::bigint as line from crm_reject_errors
    union all
    select unnest($blank_lines::bigint[]) as line
)
where line > 1;

create or replace temp table crm_steps as select * from line_steps('crm_skipped');

create or replace temp view crm_numbered as
select rowid + 1 as _row, * from crm_parsed;

-- a view: the typing SQL reads it once, so the rows are not copied a second time
create or replace temp view crm_file as
select p.*, 1 + p._row + coalesce(s.skipped, 0) as _line
from crm_numbered as p
asof left join crm_steps as s on p._row > s.read_before;
