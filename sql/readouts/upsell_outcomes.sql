-- grain: one row per (snapshot as_of, account_id) with at least one success after that snapshot.
--
-- Success: an upsell opportunity created after the snapshot day (created_at >= as_of + 1 day, the
-- cutoff the point-in-time features stop at) and won with closed_at before cutoff + $window_days days.
-- Opportunities already open at the snapshot are not successes: the criterion is judged on upsells it
-- could have found before sales did.
--
-- Parameters: $window_days INTEGER. The caller registers `readout_snapshots` (as_of DATE).
with snapshots as (
    select
        as_of,
        cast(as_of as date) + interval 1 day as cutoff
    from readout_snapshots
),

won_upsells as (
    select account_id, created_at, closed_at
    from staging.opportunities
    where type = 'upsell'
      and coalesce(is_won, false)
      and closed_at is not null
      and account_id is not null
),

final as (
    select
        s.as_of,
        w.account_id,
        count(*) as upsells_won
    from snapshots s
    join won_upsells w
      on w.created_at >= s.cutoff
     and w.closed_at >= s.cutoff
     and w.closed_at < s.cutoff + to_days(cast($window_days as integer))
    group by s.as_of, w.account_id
)

select * from final
order by as_of, account_id
