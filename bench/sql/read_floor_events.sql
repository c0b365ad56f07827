-- grain: one row for all web event day files together: lines, characters, and lines that parse.
-- json_valid parses every document completely (every field of every event touched once, by
-- DuckDB's yyjson parser): the least any loader of Segment JSON lines has to do. Converting into
-- typed nested columns (read_ndjson) costs ~3.5x more on this data; that is a loader's choice,
-- not the floor.
select count(*) as data_rows, sum(length(json)) as chars, count_if(json_valid(json)) as valid_rows
from read_ndjson_objects($paths, ignore_errors = true)
