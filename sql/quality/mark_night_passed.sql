-- grain: one row per data_date (quality.passed_nights): this run got the night through its blocking
-- checks. A re-run of the night replaces the row, so the night's baseline is what the newest passing
-- run recorded; every export asset of the run writes the same row (idempotent).
delete from quality.passed_nights
where data_date = $data_date;

insert into quality.passed_nights (data_date, run_id, recorded_at)
values ($data_date, $run_id, $recorded_at);
