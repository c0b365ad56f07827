-- grain: one row per (dimension, value) of the newest EARLIER night that recorded sizes for the table
-- (a re-run of the same night is compared with the night before, not with itself).
with latest as (
    select max(data_date) as data_date
    from quality.segment_size_history
    where table_name = $table_name and data_date < $data_date
)

select history.run_id, history.data_date, history.dimension, history.value, history.n
from quality.segment_size_history as history
inner join latest on history.data_date = latest.data_date
where history.table_name = $table_name
order by history.dimension, history.value;
