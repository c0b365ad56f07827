-- grain: at most one row: the suppression count of the last successful run, i.e. the newest EARLIER
-- night whose recording run passed its blocking checks (same data_date and run_id in
-- quality.passed_nights). A blocked night (say, the one the file went missing) is never the baseline.
select history.data_date, history.run_id, history.file_present, history.n
from quality.suppression_history as history
inner join quality.passed_nights as passed
    on passed.data_date = history.data_date and passed.run_id = history.run_id
where history.data_date < $data_date
order by history.data_date desc
limit 1;
