-- grain: one row per anonymous_id that was ever tied to a CRM contact
-- source: raw.web_events, staging.contact_id_map, staging.contacts
--
-- Evidence, strongest first (method):
--   1. user_id  : an event with this anonymous_id carries a userId that is a CRM contact_id
--                 (mapped to the merged person through staging.contact_id_map);
--   2. identify : an identify call's traits.email equals a contact's valid email_normalized;
--   3. form     : a form event ($form_events) whose properties.email equals a contact's valid email.
-- The strongest method wins; within it the earliest evidence (ts, then message_id) decides.
-- first_identified_at = the earliest evidence of any method that points to the chosen contact, so
-- sessions before that moment are stitched to the person too (the map is keyed by anonymous_id).
-- Reads raw events (not staging.events) because staging.events takes its contact_id from this map.
create schema if not exists staging;

create or replace table staging.identity_map as
with source as (
    select anonymous_id, user_id, type, event, ts, message_id, traits_email, properties
    from raw.web_events
    where anonymous_id is not null
      and (user_id is not null or type = 'identify' or (type = 'track' and list_contains($form_events, event)))
),

user_id_firsts as (
    -- most events carry a userId: only each (anonymous_id, user_id) pair's earliest event can win the
    -- ranking below or set first_identified_at, so the pairs are reduced to it first (a struct orders
    -- by ts, then message_id, nulls last: the ranking's own order)
    select anonymous_id, user_id, min(struct_pack(ts := ts, message_id := message_id)) as first_event
    from source
    where user_id is not null
    group by anonymous_id, user_id
),

user_id_evidence as (
    select
        user_id_firsts.anonymous_id,
        contact_id_map.contact_id,
        'user_id' as method,
        1 as priority,
        user_id_firsts.first_event.ts as ts,
        user_id_firsts.first_event.message_id as message_id
    from user_id_firsts
    join staging.contact_id_map as contact_id_map
        on contact_id_map.source_contact_id = user_id_firsts.user_id
),

emails as (
    select
        anonymous_id,
        case when type = 'identify' then 'identify' else 'form' end as method,
        case when type = 'identify' then 2 else 3 end as priority,
        nullif(lower(trim(
            case when type = 'identify' then traits_email else json_extract_string(properties, '$.email') end
        )), '') as email_normalized,
        ts,
        message_id
    from source
    where type = 'identify' or (type = 'track' and list_contains($form_events, event))
),

email_evidence as (
    select emails.anonymous_id, contacts.contact_id, emails.method, emails.priority, emails.ts, emails.message_id
    from emails
    join staging.contacts as contacts
        on contacts.email_normalized = emails.email_normalized
       and contacts.email_valid
),

evidence as (
    select * from user_id_evidence
    union all
    select * from email_evidence
),

ranked as (
    select
        *,
        min(ts) over (partition by anonymous_id, contact_id) as first_evidence_at,
        row_number() over (
            partition by anonymous_id order by priority, ts asc nulls last, message_id asc nulls last, contact_id
        ) as evidence_rank
    from evidence
),

final as (
    select anonymous_id, contact_id, method, first_evidence_at as first_identified_at
    from ranked
    where evidence_rank = 1
)

select * from final;
