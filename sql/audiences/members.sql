-- grain: one row per (audience, contact_id) allowed into the audience this run
-- source: eligible_members (registered by assets/audiences/holdout.py: the eligibility result)
-- Holdout: a member is in the holdout when hash_unit < holdout_share, where hash_unit is the first
-- 8 hex digits of md5(audience || ':' || contact_id) read as an unsigned integer / 2^32 (a number in
-- [0, 1)). md5 is the same in every engine and version, so the group is stable night to night and can
-- be recomputed anywhere (Python: hashlib.md5).
create schema if not exists audiences;

create or replace table audiences.members as
with source as (
    select audience, contact_id, account_id, holdout_share from eligible_members
),

hashed as (
    select
        *,
        ('0x' || left(md5(audience || ':' || contact_id), 8))::ubigint / 4294967296.0 as hash_unit
    from source
),

final as (
    select
        audience,
        contact_id,
        account_id,
        case when hash_unit < holdout_share then 'holdout' else 'treatment' end as "group",
        $as_of::date as as_of
    from hashed
)

select * from final
order by audience, contact_id;
