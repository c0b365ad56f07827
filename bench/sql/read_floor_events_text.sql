-- grain: one row for all web event day files together: lines read and characters in them.
-- The lightest possible read: every line found and measured, no JSON parsing.
select count(*) as data_rows, sum(length(json)) as chars
from read_ndjson_objects($paths, ignore_errors = true)
