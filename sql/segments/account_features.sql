-- grain: one row per account (staging.accounts), point-in-time at $as_of (DATE).
--
-- Only rows with timestamps before the cutoff (as_of + 1 day, i.e. the end of the as_of day) are
-- read, and only events that had landed by then (event_date, the day file they came in, <= as_of), so readouts can rebuild a past snapshot with no leakage from the future. "Last 30 days" is the
-- 30 days ending with as_of: [cutoff - 30 days, cutoff).
--
-- Parameters: $as_of DATE; $product_events, $pricing_paths, $upgrade_paths, $decision_seniorities,
-- $cancelled_statuses VARCHAR[] (from config/upsell.yaml); $crm_fallback BOOLEAN (the caller allows
-- CRM snapshot values for the latest night).
-- The caller registers `contact_persona` (contact_id, persona_seniority, persona_function).
--
-- Columns:
--   is_customer              a subscription active at the cutoff: started_at < cutoff, ends_at null or
--                            >= cutoff, and not cancelled (see `subscriptions_at` below)
--   seats_purchased          sum over the active subscriptions (0 when none)
--   active_seats_30d         distinct contacts of the account with product events in the last 30 days
--   active_seats_30d_prior   the same for the 30-day window 90 days earlier [cutoff-120d, cutoff-90d)
--   seat_utilization         active_seats_30d / seats_purchased; null when no seats are purchased.
--                            When the account has no product events up to as_of and this is the latest
--                            night, the CRM's seats_active / seats_purchased is used instead (the CRM
--                            value is today's snapshot, so it would leak the future into past nights)
--   seat_utilization_source  'events' | 'crm' | null
--   active_seat_growth_90d   (active_seats_30d - active_seats_30d_prior) / greatest(prior, 1): relative
--                            change; the baseline is floored at one seat so usage starting from nothing
--                            counts as growth instead of being unknown
--   product_events_30d       product usage events of the account's contacts in the last 30 days
--   pricing_page_visits_30d  non-bot page events on a pricing path by the account's contacts, 30 days
--   upgrade_page_visits_30d  the same for upgrade paths
--   engaged_decision_makers_90d  distinct contacts with a decision-maker seniority and any non-bot event
--                            in the last 90 days
--   tenure_days              as_of - date of the first subscription start (null if none started)
--   mrr                      sum over the active subscriptions (0 when none)
--   open_upsell_opportunity  an upsell opportunity created before the cutoff and not closed by then
--   latest_night             true when no event after as_of exists (CRM snapshot values are current)
with
params as (
    select
        cast($as_of as date) as as_of,
        cast($as_of as date) + interval 1 day as cutoff
),

latest as (
    -- Snapshot-only columns (CRM seats_active, subscription status) describe today, not the past.
    select
        $crm_fallback and p.as_of >= coalesce((select max(e.event_date) from staging.events e), p.as_of)
            as latest_night
    from params p
),

accounts as (
    select a.account_id
    from staging.accounts a, params p
    where a.created_at is null
       or a.created_at < p.cutoff
       -- CRM created dates of migrated accounts can postdate their first subscription.
       or exists (
           select 1 from staging.subscriptions s
           where s.account_id = a.account_id and s.started_at < p.cutoff
       )
),

subscriptions_at as (
    select
        s.account_id,
        s.seats_purchased,
        s.seats_active,
        s.mrr,
        s.started_at,
        s.started_at < p.cutoff
            and (s.ends_at is null or s.ends_at >= p.cutoff)
            -- status is today's snapshot: a cancelled subscription with an end date was active until
            -- then (past nights); with no end date, or on the latest night, cancelled means not active.
            and not (
                list_contains($cancelled_statuses, lower(coalesce(s.status, '')))
                and (s.ends_at is null or l.latest_night)
            ) as is_active
    from staging.subscriptions s, params p, latest l
    where s.started_at < p.cutoff
),

subscription_features as (
    select
        account_id,
        bool_or(is_active) as is_customer,
        cast(coalesce(sum(seats_purchased) filter (where is_active), 0) as bigint) as seats_purchased,
        cast(sum(seats_active) filter (where is_active) as bigint) as crm_seats_active,
        cast(coalesce(sum(mrr) filter (where is_active), 0) as double) as mrr,
        min(started_at) as first_started_at
    from subscriptions_at
    group by account_id
),

account_events as (
    -- Events of known contacts mapped to their account, within the longest window used (120 days).
    select
        c.account_id,
        e.contact_id,
        e.ts,
        e.type,
        e.event,
        lower(e.page_path) as page_path,
        coalesce(e.is_bot, false) as is_bot
    from staging.events e
    join staging.contacts c on c.contact_id = e.contact_id
    cross join params p
    where e.ts < p.cutoff
      and e.ts >= p.cutoff - interval 120 day
      and e.event_date <= p.as_of  -- landed by as_of: a late event (landed later) was not known then
      and c.account_id is not null
),

page_kinds as (
    -- Prefix matching once per distinct path (a few thousand), not once per event (millions).
    select
        page_path,
        exists (
            select 1 from unnest($pricing_paths) t(prefix) where starts_with(page_path, lower(t.prefix))
        ) as is_pricing,
        exists (
            select 1 from unnest($upgrade_paths) t(prefix) where starts_with(page_path, lower(t.prefix))
        ) as is_upgrade
    from (select distinct page_path from account_events where type = 'page' and page_path is not null)
),

product_usage_ever as (
    -- Accounts with any product event up to as_of (decides the CRM fallback). Distinct users first,
    -- so the join to contacts sees thousands of rows, not millions.
    select distinct c.account_id
    from (
        select distinct e.contact_id
        from staging.events e, params p
        where e.ts < p.cutoff
          and e.event_date <= p.as_of
          and e.type = 'track'
          and not coalesce(e.is_bot, false)
          and list_contains($product_events, e.event)
    ) u
    join staging.contacts c on c.contact_id = u.contact_id
),

event_features as (
    select
        ae.account_id,
        count(distinct ae.contact_id) filter (
            where ae.is_product and ae.ts >= p.cutoff - interval 30 day
        ) as active_seats_30d,
        count(distinct ae.contact_id) filter (
            where ae.is_product and ae.ts >= p.cutoff - interval 120 day and ae.ts < p.cutoff - interval 90 day
        ) as active_seats_30d_prior,
        count(*) filter (where ae.is_product and ae.ts >= p.cutoff - interval 30 day) as product_events_30d,
        count(*) filter (where ae.is_pricing and ae.ts >= p.cutoff - interval 30 day) as pricing_page_visits_30d,
        count(*) filter (where ae.is_upgrade and ae.ts >= p.cutoff - interval 30 day) as upgrade_page_visits_30d
    from (
        select
            account_id,
            contact_id,
            ts,
            type = 'track' and list_contains($product_events, event) and not is_bot as is_product,
            type = 'page' and not is_bot and coalesce(pk.is_pricing, false) as is_pricing,
            type = 'page' and not is_bot and coalesce(pk.is_upgrade, false) as is_upgrade
        from account_events
        left join page_kinds pk using (page_path)
    ) ae
    cross join params p
    group by ae.account_id
),

decision_makers as (
    select
        ae.account_id,
        count(distinct ae.contact_id) as engaged_decision_makers_90d
    from account_events ae
    join contact_persona cp on cp.contact_id = ae.contact_id
    cross join params p
    where not ae.is_bot
      and ae.ts >= p.cutoff - interval 90 day
      and list_contains($decision_seniorities, cp.persona_seniority)
    group by ae.account_id
),

open_upsell as (
    select distinct o.account_id
    from staging.opportunities o, params p
    where o.type = 'upsell'
      and o.created_at < p.cutoff
      and (
          o.closed_at >= p.cutoff
          -- closed with no date: we cannot tell when, so only a never-closed one counts as open
          or (o.closed_at is null and not coalesce(o.is_closed, false))
      )
),

final as (
    select
        a.account_id,
        coalesce(sf.is_customer, false) as is_customer,
        coalesce(sf.seats_purchased, 0) as seats_purchased,
        coalesce(ef.active_seats_30d, 0) as active_seats_30d,
        coalesce(ef.active_seats_30d_prior, 0) as active_seats_30d_prior,
        case
            when coalesce(sf.seats_purchased, 0) <= 0 then null
            when pu.account_id is not null
                then coalesce(ef.active_seats_30d, 0)::double / sf.seats_purchased
            when l.latest_night and sf.crm_seats_active is not null
                then sf.crm_seats_active::double / sf.seats_purchased
            else coalesce(ef.active_seats_30d, 0)::double / sf.seats_purchased
        end as seat_utilization,
        case
            when coalesce(sf.seats_purchased, 0) <= 0 then null
            when pu.account_id is null and l.latest_night and sf.crm_seats_active is not null then 'crm'
            else 'events'
        end as seat_utilization_source,
        (coalesce(ef.active_seats_30d, 0) - coalesce(ef.active_seats_30d_prior, 0))::double
            / greatest(coalesce(ef.active_seats_30d_prior, 0), 1) as active_seat_growth_90d,
        coalesce(ef.product_events_30d, 0) as product_events_30d,
        coalesce(ef.pricing_page_visits_30d, 0) as pricing_page_visits_30d,
        coalesce(ef.upgrade_page_visits_30d, 0) as upgrade_page_visits_30d,
        coalesce(dm.engaged_decision_makers_90d, 0) as engaged_decision_makers_90d,
        cast(date_diff('day', cast(sf.first_started_at as date), p.as_of) as integer) as tenure_days,
        cast(coalesce(sf.mrr, 0) as double) as mrr,
        ou.account_id is not null as open_upsell_opportunity,
        l.latest_night,
        p.as_of
    from accounts a
    cross join params p
    cross join latest l
    left join subscription_features sf on sf.account_id = a.account_id
    left join event_features ef on ef.account_id = a.account_id
    left join product_usage_ever pu on pu.account_id = a.account_id
    left join decision_makers dm on dm.account_id = a.account_id
    left join open_upsell ou on ou.account_id = a.account_id
)

select * from final
order by account_id
