-- The identity map's ranking (how build_state.identity_evidence becomes staging.identity_map), as a
-- table macro over the temp view or table `identity_ranking_input`: evidence groups, every group of each
-- anonymous id it holds (the ranking is per anonymous id, so ranking some ids gives their rows of the
-- whole map). Full build: all groups (identity_ranking_all.sql); incremental night: the anonymous ids
-- whose evidence or whose evidence keys' contacts changed (identity_ranking_affected.sql).
-- One row per anonymous_id that was ever tied to a CRM contact
-- source: raw.web_events (via build_state.identity_evidence), the keys of identity_ranking_keys.sql
--
-- Evidence, strongest first (method):
--   1. user_id  : an event with this anonymous_id carries a userId that is a CRM contact_id
--                 (mapped to the merged person through staging.contact_id_map);
--   2. identify : an identify call's traits.email equals a contact's valid email_normalized;
--   3. form     : a form event ($form_events) whose properties.email equals a contact's valid email.
-- The strongest method wins; within it the earliest evidence (ts, then message_id) decides.
-- first_identified_at = the earliest evidence of any method that points to the chosen contact, so
-- sessions before that moment are stitched to the person too (the map is keyed by anonymous_id).
-- Reads raw events (not staging.events) because staging.events takes its contact_id from this map,
-- through build_state.identity_evidence: per (anonymous_id, method, evidence key) its earliest event,
-- kept up to date incrementally (sql/staging/identity_map_transform.sql, assets/staging/incremental.py).
create or replace temp macro identity_ranked() as table
    with user_id_evidence as (
        select
            groups.anonymous_id,
            keys.contact_id,
            'user_id' as method,
            1 as priority,
            groups.first_event.ts as ts,
            groups.first_event.message_id as message_id
        from identity_ranking_input as groups
        join identity_user_id_keys as keys on keys.evidence_key = groups.evidence_key
        where groups.method = 'user_id'
    ),

    email_evidence as (
        select
            groups.anonymous_id,
            keys.contact_id,
            groups.method,
            case when groups.method = 'identify' then 2 else 3 end as priority,
            groups.first_event.ts as ts,
            groups.first_event.message_id as message_id
        from identity_ranking_input as groups
        join identity_email_keys as keys on keys.evidence_key = groups.evidence_key
        where groups.method in ('identify', 'form')
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
    )

    select anonymous_id, contact_id, method, first_evidence_at as first_identified_at
    from ranked
    where evidence_rank = 1;
