-- grain: one row per (dimension, value) of the newest earlier run that recorded sizes for the table.
with earlier_runs as (
    select run_id, data_date, max(recorded_at) as recorded_at
    from quality.segment_size_history
    where table_name = $table_name and run_id <> $run_id
    group by run_id, data_date
),

latest as (
    select run_id, data_date
    from earlier_runs
    order by recorded_at desc
    limit 1
)

select history.run_id, history.data_date, history.dimension, history.value, history.n
from quality.segment_size_history as history
inner join latest on history.run_id = latest.run_id
where history.table_name = $table_name
order by history.dimension, history.value;
