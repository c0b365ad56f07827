-- grain: one row for one CSV file: its data rows, then one sum per column of the characters in it.
-- Every column is read as text and measured, so every byte of every row is touched once (the read
-- floor); malformed rows are skipped rather than failing the measurement.
select count(*) as data_rows, sum(length(columns(*)))
from read_csv($path, header = true, all_varchar = true, ignore_errors = true, strict_mode = false)
