-- grain: one row per data_date (quality.suppression_history): a re-run of the night, or a retry after
-- a crash, replaces the night's row instead of adding a second one.
delete from quality.suppression_history
where data_date = $data_date;

insert into quality.suppression_history (data_date, run_id, file_present, n, recorded_at)
values ($data_date, $run_id, $file_present, $n, $recorded_at);
