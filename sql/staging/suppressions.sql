-- grain: one row per email_normalized (people who must never be exported)
-- source: raw.suppressions. An address listed several times keeps its earliest entry (the first time it
-- was suppressed; ties: the alphabetically first reason). Rows without an address are left out.
create schema if not exists staging;

create or replace table staging.suppressions as
with source as (
    select email, reason, added_at from raw.suppressions
),

cleaned as (
    select
        nullif(lower(trim_fast(email)), '') as email_normalized,
        nullif(trim_fast(reason), '') as reason,
        added_at
    from source
),

final as (
    select email_normalized, reason, added_at
    from cleaned
    where email_normalized is not null
    qualify row_number() over (
        partition by email_normalized order by added_at asc nulls last, reason asc nulls last
    ) = 1
)

select * from final;
