-- grain: one row per contact with at least one web session (staging.sessions stitched to contacts by
-- the identity map). First touch = the contact's first session; last touch = the last session that
-- was not direct. Ties on start time are broken by session_id so the result is deterministic.
with
source as (
    select contact_id, session_id, started_at, source, medium, campaign, is_direct
    from staging.sessions
    where contact_id is not null
),

final as (
    select
        contact_id,
        arg_min(source, (started_at, session_id)) as first_touch_source,
        arg_min(medium, (started_at, session_id)) as first_touch_medium,
        arg_min(campaign, (started_at, session_id)) as first_touch_campaign,
        min(started_at) as first_touch_at,
        arg_max(source, (started_at, session_id)) filter (where not is_direct) as last_touch_source,
        arg_max(medium, (started_at, session_id)) filter (where not is_direct) as last_touch_medium,
        arg_max(campaign, (started_at, session_id)) filter (where not is_direct) as last_touch_campaign,
        count(*) as sessions
    from source
    group by contact_id
)

select * from final order by contact_id
