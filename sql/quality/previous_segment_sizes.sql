-- grain: one row per (dimension, value) of the newest EARLIER night that recorded sizes for the table
-- and whose recording run passed its blocking checks (quality.passed_nights, same run_id): the last
-- successful run. A blocked night, or a blocked re-run of a good night, is never the baseline; a re-run
-- of the same night is compared with the night before, not with itself.
with latest as (
    select max(history.data_date) as data_date
    from quality.segment_size_history as history
    inner join quality.passed_nights as passed
        on passed.data_date = history.data_date and passed.run_id = history.run_id
    where history.table_name = $table_name and history.data_date < $data_date
)

select history.run_id, history.data_date, history.dimension, history.value, history.n
from quality.segment_size_history as history
inner join latest on history.data_date = latest.data_date
where history.table_name = $table_name
order by history.dimension, history.value;
