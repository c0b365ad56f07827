-- grain: one row per (data_date, table_name, dimension, value), from the registered frame
-- `current_segment_sizes` (dimension, value, n). A night has one set of sizes: a re-run or a retry
-- after a crash replaces that night's rows instead of adding a second copy.
delete from quality.segment_size_history
where data_date = $data_date and table_name = $table_name;

insert into quality.segment_size_history
select $run_id, $data_date, $table_name, dimension, value, n, $recorded_at
from current_segment_sizes;
