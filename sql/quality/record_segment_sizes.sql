-- grain: one row per (run_id, table_name, dimension, value), from the registered frame `current_segment_sizes`
-- (dimension, value, n). A retried run replaces its own rows instead of adding a second copy.
delete from quality.segment_size_history
where run_id = $run_id and table_name = $table_name;

insert into quality.segment_size_history
select $run_id, $data_date, $table_name, dimension, value, n, $recorded_at
from current_segment_sizes;
