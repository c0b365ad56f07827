-- grain: one row per opportunity_id
-- source: raw.opportunities, staging.contact_id_map. An opportunity_id listed twice keeps its latest
-- created_at (ties: the later line). contact_id is the merged person's survivor id (an id unknown to
-- the CRM contacts is kept as given).
-- type: new_business | upsell | renewal | other, from the canonical values and the HubSpot (dealtype)
-- and Salesforce (Type) picklists. is_closed: the stage says closed/won/lost, or the deal is won
-- (Salesforce's CloseDate is an expected date on open deals, so closed_at alone does not close a deal).
create schema if not exists staging;

create or replace table staging.opportunities as
with source as (
    select * from raw.opportunities where opportunity_id is not null
),

cleaned as (
    select
        opportunity_id,
        nullif(trim_fast(account_id), '') as account_id,
        nullif(trim_fast(contact_id), '') as contact_id,
        regexp_replace(lower(trim_fast(type)), '[^a-z]+', '_', 'g') as type_key,
        nullif(trim_fast(stage), '') as stage,
        amount,
        created_at,
        closed_at,
        is_won,
        _line
    from source
    qualify row_number() over (
        partition by opportunity_id order by created_at desc nulls last, _line desc nulls last
    ) = 1
),

final as (
    select
        cleaned.opportunity_id,
        cleaned.account_id,
        coalesce(contact_id_map.contact_id, cleaned.contact_id) as contact_id,
        case
            when cleaned.type_key in ('new_business', 'newbusiness', 'new', 'new_customer', 'new_logo')
                then 'new_business'
            when cleaned.type_key in (
                'upsell', 'up_sell', 'expansion', 'upgrade', 'cross_sell', 'crosssell', 'add_on', 'addon',
                'existing_business', 'existingbusiness', 'existing_customer_upgrade'
            ) then 'upsell'
            when cleaned.type_key in ('renewal', 'renew', 'existing_customer_renewal', 'existing_customer_replacement')
                then 'renewal'
            else 'other'
        end as type,
        cleaned.stage,
        cleaned.amount,
        cleaned.created_at,
        cleaned.closed_at,
        cleaned.is_won,
        coalesce(
            regexp_matches(lower(cleaned.stage), '^\s*closed|^\s*(won|lost)\s*$'), false
        ) or coalesce(cleaned.is_won, false) as is_closed
    from cleaned
    left join staging.contact_id_map as contact_id_map
        on contact_id_map.source_contact_id = cleaned.contact_id
)

select * from final;
