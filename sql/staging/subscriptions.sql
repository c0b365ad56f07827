-- grain: one row per subscription_id
-- source: raw.subscriptions. A subscription_id listed twice keeps its latest started_at (ties: the
-- later line). status is lowercase.
-- is_active_as_of (compared by calendar day, $as_of = the run's data date): started on or before
-- $as_of, not ended on or before $as_of, and status not cancelled/canceled/churned/expired.
create schema if not exists staging;

create or replace table staging.subscriptions as
with source as (
    select * from raw.subscriptions where subscription_id is not null
),

cleaned as (
    select
        subscription_id,
        nullif(trim_fast(account_id), '') as account_id,
        nullif(trim_fast(plan), '') as plan,
        seats_purchased,
        seats_active,
        mrr,
        started_at,
        ends_at,
        nullif(lower(trim_fast(status)), '') as status
    from source
    qualify row_number() over (
        partition by subscription_id order by started_at desc nulls last, _line desc nulls last
    ) = 1
),

final as (
    select
        *,
        coalesce(
            started_at::date <= $as_of::date
            and (ends_at is null or ends_at::date > $as_of::date)
            and (status is null or status not in ('cancelled', 'canceled', 'churned', 'expired')),
            false
        ) as is_active_as_of
    from cleaned
)

select * from final;
