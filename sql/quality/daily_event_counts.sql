-- grain: one row per event_date with events, from $days days before the data date up to it, plus the
-- data date itself with n = 0 when nothing landed for it: an empty night is the anomaly the volume
-- check exists for, so it must not vanish from the counts. Other empty days stay absent (no data,
-- not a zero to put into the baseline median).
with counted as (
    select event_date, count(*)::bigint as n
    from raw.web_events
    where event_date between $as_of::date - $days::integer and $as_of::date
    group by event_date
),

data_day as (
    select $as_of::date as event_date, 0::bigint as n
    where not exists (select 1 from counted where event_date = $as_of::date)
)

select event_date, n from counted
union all
select event_date, n from data_day
order by event_date;
