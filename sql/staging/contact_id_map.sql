-- grain: one row per CRM contact_id (every raw contact_id, merged or not)
-- source: staging.contacts (merged_contact_ids lists every record a person was merged from)
create schema if not exists staging;

create or replace table staging.contact_id_map as
with source as (
    select contact_id, merged_contact_ids from staging.contacts
),

final as (
    select
        unnest(merged_contact_ids) as source_contact_id,
        contact_id
    from source
)

select * from final;
