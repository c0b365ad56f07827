-- grain: one row per contact with at least one web session (staging.sessions stitched to contacts by
-- the identity map) among the sessions of the temp view touch_sessions (every contact's, or the queued
-- contacts': sql/segments/touch_sessions_*.sql). First touch = the contact's first session; last
-- touch = the last session that was not direct. Ties on start time are broken by session_id so the
-- result is deterministic. Kept in build_state.contact_touches (assets/segments/touches.py).
create or replace temp view touches_computed as
with
source as (
    select contact_id, session_id, started_at, source, medium, campaign, is_direct
    from touch_sessions
),

per_contact as (
    -- one arg_min / arg_max per touch, carrying all three fields (three of each cost three sorts' worth
    -- of struct comparisons over every session)
    select
        contact_id,
        arg_min({'source': source, 'medium': medium, 'campaign': campaign}, (started_at, session_id)) as first_touch,
        min(started_at) as first_touch_at,
        arg_max({'source': source, 'medium': medium, 'campaign': campaign}, (started_at, session_id))
            filter (where not is_direct) as last_touch,
        count(*) as sessions
    from source
    group by contact_id
),

final as (
    select
        contact_id,
        first_touch.source as first_touch_source,
        first_touch.medium as first_touch_medium,
        first_touch.campaign as first_touch_campaign,
        first_touch_at,
        last_touch.source as last_touch_source,
        last_touch.medium as last_touch_medium,
        last_touch.campaign as last_touch_campaign,
        sessions
    from per_contact
)

select * from final;
