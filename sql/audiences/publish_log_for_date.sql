-- grain: one row per (audience, destination) publish outcome logged for one data date ($data_date),
-- the latest logged first per pair
select audience, destination, status, publish_id, "rows", adds, removes, holdout_size, reason
from audiences.publish_log
where data_date = $data_date
qualify row_number() over (partition by audience, destination order by logged_at desc) = 1
order by audience, destination;
