-- The identity evidence transform (how it becomes staging.identity_map: sql/staging/identity_ranking_transform.sql),
-- as a table macro over the temp view or table `identity_input`: raw.web_events rows. One row per
-- (anonymous_id, method, evidence_key) with its earliest event (`first_event`: ts, then message_id,
-- then event_date; a struct orders field by field, which is the ranking's own order):
--   user_id  : evidence_key = the event's userId (mapped to a contact at ranking time);
--   identify : evidence_key = an identify call's traits.email, normalized;
--   form     : evidence_key = a form event's ($form_events) properties.email, normalized.
-- The earliest event of a group is the only one of it that can win the ranking or set
-- first_identified_at, so the groups are all the ranking needs, and the minimum over more input is the
-- minimum of the minimums: the incremental night merges tonight's groups into the stored ones
-- (sql/staging/identity_evidence_merge.sql) and gets what a full build gets.
create or replace temp macro identity_evidence_transform(form_events) as table
    with source as not materialized (
        -- read by both branches below: not materialized (DuckDB would copy 20M raw rows first)
        select anonymous_id, user_id, type, event, ts, message_id, event_date, traits_email, properties
        from identity_input
        where anonymous_id is not null
          and (user_id is not null or type = 'identify' or (type = 'track' and list_contains(form_events, event)))
    ),

    keyed as (
        select anonymous_id, 'user_id' as method, user_id as evidence_key, ts, message_id, event_date
        from source
        where user_id is not null
        union all
        select
            anonymous_id,
            case when type = 'identify' then 'identify' else 'form' end,
            nullif(lower(trim(
                case when type = 'identify' then traits_email else json_extract_string(properties, '$.email') end
            )), ''),
            ts, message_id, event_date
        from source
        where type = 'identify' or (type = 'track' and list_contains(form_events, event))
    )

    select
        anonymous_id, method, evidence_key,
        min(struct_pack(ts := ts, message_id := message_id, event_date := event_date)) as first_event
    from keyed
    where evidence_key is not null
    group by anonymous_id, method, evidence_key;
