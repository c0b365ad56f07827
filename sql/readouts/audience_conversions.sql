-- grain: one row per (audience, contact_id) in audiences.memberships: the member's group, when the
-- outcome window ends, whether it has ended by the data date, and whether the member converted.
--
-- Conversion: an opportunity of one of the audience's outcome types, created on or after the first
-- publish and, by outcome event, created (created_at) or won (is_won, closed_at) before
-- first_published_at + $window_days days. match = 'contact': the opportunity's contact is the member;
-- 'account': any opportunity of the member's account (staging.contacts.account_id), including theirs.
--
-- Parameters: $window_days INTEGER, $data_date DATE. The caller registers `audience_outcomes`
-- (audience, event, opportunity_types VARCHAR[], match) with one row per audience in memberships.
with members as (
    select
        m.audience,
        m.contact_id,
        m."group",
        m.first_published_at,
        m.first_published_at + to_days(cast($window_days as integer)) as window_end,
        c.account_id,
        o.event,
        o.opportunity_types,
        o.match
    from audiences.memberships m
    join audience_outcomes o on o.audience = m.audience
    left join staging.contacts c on c.contact_id = m.contact_id
),

opportunities as (
    select
        account_id,
        contact_id,
        type,
        created_at,
        case when coalesce(is_won, false) then closed_at end as won_at
    from staging.opportunities
    where created_at is not null
),

candidates as (
    -- Two equi-joins instead of one join on "contact or account": an OR join condition is a nested loop.
    select m.*, op.type, op.created_at, op.won_at
    from members m
    join opportunities op on m.match = 'contact' and op.contact_id = m.contact_id
    union all
    select m.*, op.type, op.created_at, op.won_at
    from members m
    join opportunities op on m.match = 'account' and op.account_id = m.account_id
),

converted as (
    select distinct audience, contact_id
    from candidates
    where list_contains(opportunity_types, type)
      and created_at >= first_published_at
      and (
          (event = 'created' and created_at < window_end)
          or (event = 'won' and won_at >= first_published_at and won_at < window_end)
      )
),

final as (
    select
        m.audience,
        m.contact_id,
        m."group",
        m.first_published_at,
        m.window_end,
        -- the window has ended when its last day is no later than the data date
        m.window_end <= cast($data_date as date) + interval 1 day as window_complete,
        cv.contact_id is not null as converted
    from members m
    left join converted cv on cv.audience = m.audience and cv.contact_id = m.contact_id
)

select * from final
order by audience, contact_id
