-- grain: one row per event_date with events, from $days days before the data date up to it.
select event_date, count(*)::bigint as n
from raw.web_events
where event_date between $as_of::date - $days::integer and $as_of::date
group by event_date
order by event_date;
