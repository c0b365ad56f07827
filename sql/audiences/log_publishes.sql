-- grain: one row per publish attempt per (audience, destination) and night (audiences.publish_log)
-- source: publish_results (registered by assets/audiences/publication.py: this run's outcomes)
-- A row is new unless the log already has, for the same audience, destination and data date, the same
-- publish_id (a re-run that found the files unchanged) or, without a publish_id (skipped, failed), the
-- same status. So re-running a night with the same data adds nothing.
insert into audiences.publish_log
select
    r.run_id, r.data_date, r.published_at, r.logged_at, r.audience, r.destination, r.status, r.reason,
    r.publish_id, r."rows", r.adds, r.removes, r.audience_size, r.treatment_size, r.holdout_size,
    r.sha256s::json, r.path
from publish_results as r
where not exists (
    select 1 from audiences.publish_log as l
    where l.audience = r.audience
      and l.destination = r.destination
      and l.data_date = r.data_date
      and l.publish_id is not distinct from r.publish_id
      and (r.publish_id is not null or l.status = r.status)
);
