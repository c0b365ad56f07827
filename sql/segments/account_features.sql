-- grain: one row per (snapshot as_of, account of staging.accounts): the upsell features, point-in-time
-- at every snapshot of $snapshots (DATE[]) in ONE set-based pass. The nightly segment passes one
-- snapshot (the data date, $crm_fallback = true); the criteria readout passes many past snapshots
-- ($crm_fallback = false). This is the only definition of the features.
--
-- Point-in-time: at each as_of, only rows with timestamps before its cutoff (as_of + 1 day, i.e. the end
-- of the as_of day) are read, and only events that had landed by then (event_date, the day file they
-- came in, <= as_of: a late event was not known that night), so readouts can rebuild a past snapshot
-- with no leakage from the future. "Last 30 days" is the 30 days ending with as_of: [cutoff - 30 days,
-- cutoff).
--
-- Why it is set-based: events are read once, reduced to one row per (contact, event day, landing day)
-- with the counts the features need, and each row is joined to the few snapshots whose windows contain
-- it (running a per-night query once per snapshot re-read ~120 days of events each time). Every window
-- boundary is a midnight (cutoff - N days), so for a TIMESTAMP `ts`:
--   ts < cutoff                   <=> day <= as_of                 (day = cast(ts as date))
--   ts >= cutoff - interval N day <=> day >= as_of - (N - 1)
-- and an event is known at as_of when day <= as_of and event_date <= as_of.
--
-- Parameters: $snapshots DATE[]; $product_events, $pricing_paths, $upgrade_paths, $decision_seniorities,
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
--   seat_utilization_source  'events' | 'crm' | null ('crm' only on a latest night)
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
--   latest_night             $crm_fallback and no event landed after as_of (as_of >= max(event_date) of
--                            staging.events): CRM snapshot values are current. Always false with
--                            $crm_fallback = false, so the CRM's seats_active is never used and the
--                            "product usage ever" scan below reads nothing.
--   as_of                    the snapshot
with
snapshots as (
    select distinct
        s.as_of,
        cast(s.as_of as date) + interval 1 day as cutoff,
        -- Snapshot-only columns (CRM seats_active, subscription status) describe today, not the past.
        $crm_fallback
            and s.as_of >= coalesce((select max(e.event_date) from staging.events e), s.as_of) as latest_night
    from unnest(cast($snapshots as date[])) as s(as_of)
    where s.as_of is not null
),

first_subscription as (
    select account_id, min(started_at) as first_started_at
    from staging.subscriptions
    group by account_id
),

accounts as (
    -- Created before the cutoff, no created date, or a subscription started before the cutoff (CRM
    -- created dates of migrated accounts can postdate their first subscription).
    select s.as_of, s.latest_night, a.account_id
    from staging.accounts a
    left join first_subscription fs on fs.account_id = a.account_id
    cross join snapshots s
    where a.created_at is null
       or a.created_at < s.cutoff
       or fs.first_started_at < s.cutoff
),

subscriptions_at as (
    select
        p.as_of,
        s.account_id,
        s.seats_purchased,
        s.seats_active,
        s.mrr,
        s.started_at,
        (s.ends_at is null or s.ends_at >= p.cutoff)
            -- status is today's snapshot: a cancelled subscription with an end date was active until
            -- then (past nights); with no end date, or on the latest night, cancelled means not active.
            and not (
                list_contains($cancelled_statuses, lower(coalesce(s.status, '')))
                and (s.ends_at is null or p.latest_night)
            ) as is_active
    from staging.subscriptions s
    join snapshots p on s.started_at < p.cutoff
),

subscription_features as (
    select
        as_of,
        account_id,
        bool_or(is_active) as is_customer,
        cast(coalesce(sum(seats_purchased) filter (where is_active), 0) as bigint) as seats_purchased,
        cast(sum(seats_active) filter (where is_active) as bigint) as crm_seats_active,
        cast(coalesce(sum(mrr) filter (where is_active), 0) as double) as mrr,
        min(started_at) as first_started_at
    from subscriptions_at
    group by as_of, account_id
),

page_kinds as (
    -- Prefix matching (case-insensitive) once per distinct path (a few dozen), not once per event: the
    -- paths that are pricing / upgrade pages, as two short lists to look events up in. Only the paths
    -- of the events event_days reads (the same bounds), not of the whole history.
    select
        coalesce(list(page_path) filter (where is_pricing), []) as pricing_pages,
        coalesce(list(page_path) filter (where is_upgrade), []) as upgrade_pages
    from (
        select
            page_path,
            exists (
                select 1 from unnest($pricing_paths) t(prefix) where starts_with(lower(page_path), lower(t.prefix))
            ) as is_pricing,
            exists (
                select 1 from unnest($upgrade_paths) t(prefix) where starts_with(lower(page_path), lower(t.prefix))
            ) as is_upgrade
        from (
            select distinct e.page_path
            from staging.events e
            where e.type = 'page' and e.page_path is not null
              and e.ts < list_max(cast($snapshots as date[])) + interval 1 day
              and e.ts >= list_min(cast($snapshots as date[])) + interval 1 day - interval 120 day
              and e.event_date <= list_max(cast($snapshots as date[]))
        )
    )
),

event_days as (
    -- Every event any snapshot needs, read once: up to the last cutoff, from 120 days before the first
    -- one (the longest window), landed by the last snapshot. One row per (contact, day, event_date).
    select
        e.contact_id,
        cast(e.ts as date) as day,
        e.event_date,
        count(*) filter (
            where e.type = 'track' and list_contains($product_events, e.event) and not coalesce(e.is_bot, false)
        ) as product_events,
        count(*) filter (
            where e.type = 'page' and not coalesce(e.is_bot, false) and list_contains(pk.pricing_pages, e.page_path)
        ) as pricing_visits,
        count(*) filter (
            where e.type = 'page' and not coalesce(e.is_bot, false) and list_contains(pk.upgrade_pages, e.page_path)
        ) as upgrade_visits,
        count(*) filter (where not coalesce(e.is_bot, false)) as human_events
    from staging.events e
    cross join page_kinds pk
    -- constant bounds (folded from the parameter), so the scan skips row groups outside them
    where e.ts < list_max(cast($snapshots as date[])) + interval 1 day
      and e.ts >= list_min(cast($snapshots as date[])) + interval 1 day - interval 120 day
      and e.event_date <= list_max(cast($snapshots as date[]))
      and e.contact_id is not null
    group by e.contact_id, cast(e.ts as date), e.event_date
),

account_keys as materialized (
    -- Integer keys for the big aggregations below (grouping by text ids is several times slower).
    select account_id, row_number() over () as account_key
    from (select distinct account_id from staging.contacts where account_id is not null)
),

contact_keys as materialized (
    -- One row per contact row with an account (an inner join to contacts: a contact listed twice counts
    -- twice in event counts, once in distinct counts), keyed by integers.
    select
        ck.contact_key,
        ak.account_key,
        c.contact_id,
        exists (
            select 1 from contact_persona cp
            where cp.contact_id = c.contact_id and list_contains($decision_seniorities, cp.persona_seniority)
        ) as is_decision_maker
    from staging.contacts c
    join (
        select contact_id, row_number() over () as contact_key
        from (select distinct contact_id from staging.contacts where account_id is not null)
    ) ck on ck.contact_id = c.contact_id
    join account_keys ak on ak.account_id = c.account_id
),

keyed_event_days as materialized (
    select k.contact_key, k.account_key, k.is_decision_maker, ed.* exclude (contact_id)
    from event_days ed
    join contact_keys k on k.contact_id = ed.contact_id
),

contact_windows as (
    -- Per (snapshot, contact, account): the event counts in each window, from the (contact, day) rows
    -- known at that snapshot and within its 120 days.
    select
        s.as_of,
        ed.account_key,
        ed.contact_key,
        bool_or(ed.is_decision_maker) as is_decision_maker,
        sum(ed.product_events) filter (where ed.day >= s.as_of - 29) as product_events_30d,
        sum(ed.product_events) filter (where ed.day <= s.as_of - 90) as product_events_prior,
        sum(ed.pricing_visits) filter (where ed.day >= s.as_of - 29) as pricing_visits_30d,
        sum(ed.upgrade_visits) filter (where ed.day >= s.as_of - 29) as upgrade_visits_30d,
        sum(ed.human_events) filter (where ed.day >= s.as_of - 89) as human_events_90d
    from keyed_event_days ed
    join snapshots s
      on ed.day <= s.as_of
     and ed.day >= s.as_of - 119
     and ed.event_date <= s.as_of
    group by s.as_of, ed.account_key, ed.contact_key
),

event_features as (
    -- contact_windows has one row per (snapshot, account, contact): counting rows counts distinct contacts.
    select
        cw.as_of,
        ak.account_id,
        count(*) filter (where cw.product_events_30d > 0) as active_seats_30d,
        count(*) filter (where cw.product_events_prior > 0) as active_seats_30d_prior,
        cast(sum(cw.product_events_30d) as bigint) as product_events_30d,
        cast(sum(cw.pricing_visits_30d) as bigint) as pricing_page_visits_30d,
        cast(sum(cw.upgrade_visits_30d) as bigint) as upgrade_page_visits_30d,
        count(*) filter (where cw.human_events_90d > 0 and cw.is_decision_maker) as engaged_decision_makers_90d
    from contact_windows cw
    join account_keys ak on ak.account_key = cw.account_key
    group by cw.as_of, ak.account_id
),

fallback_accounts as (
    -- The accounts the CRM fallback can apply to (final below): seats bought and a CRM seats_active on
    -- a latest night. Only they need their first product use ($crm_fallback false: none).
    select distinct sf.account_id
    from subscription_features sf
    join snapshots s on s.as_of = sf.as_of
    where s.latest_night and sf.seats_purchased > 0 and sf.crm_seats_active is not null
),

window_product_use as (
    -- Their first product use among the events event_days read (the 120 days before the first snapshot
    -- up to the last one).
    select ak.account_id, min(greatest(ed.day, ed.event_date)) as first_known
    from keyed_event_days ed
    join account_keys ak on ak.account_key = ed.account_key
    where $crm_fallback  -- a constant: false (the readouts' many snapshots) plans nothing here
      and ed.product_events > 0
      and ak.account_id in (select account_id from fallback_accounts)
    group by ak.account_id
),

unsettled_contacts as (
    -- The contacts of those without a product use in that window known by the earliest snapshot: only
    -- their older events can still move the first use to before a snapshot. (Bench scale: 3.8k of 44k
    -- accounts; the older events of all the others are not read.)
    select c.contact_id
    from staging.contacts c
    where $crm_fallback
      and c.account_id in (select account_id from fallback_accounts)
      and c.account_id not in (
          select account_id from window_product_use where first_known <= (select min(as_of) from snapshots)
      )
),

older_product_use as (
    -- Per unsettled contact, the first product use before that window: rows before its first day, so
    -- the scan skips the window's row groups.
    select e.contact_id, min(greatest(cast(e.ts as date), e.event_date)) as first_known
    from staging.events e
    where $crm_fallback  -- a constant: false reads no events
      and e.ts < list_min(cast($snapshots as date[])) + interval 1 day - interval 120 day
      and e.event_date <= list_max(cast($snapshots as date[]))
      and e.type = 'track'
      and not coalesce(e.is_bot, false)
      and list_contains($product_events, e.event)
      and e.contact_id in (select contact_id from unsettled_contacts)
    group by e.contact_id
),

first_product_use as (
    -- Per account the CRM fallback can apply to, the first day a product event of its contacts was
    -- known (happened and landed: the later of the two days); the account has product usage up to
    -- as_of when that day <= as_of. The older use is per contact first, so the join to contacts sees
    -- thousands of rows, not millions.
    select account_id, min(first_known) as first_known
    from (
        select account_id, first_known from window_product_use
        union all
        select c.account_id, u.first_known
        from older_product_use u
        join staging.contacts c on c.contact_id = u.contact_id
        where c.account_id is not null
    )
    group by account_id
),

open_upsell as (
    select distinct p.as_of, o.account_id
    from staging.opportunities o
    join snapshots p on o.created_at < p.cutoff
    where o.type = 'upsell'
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
            when a.latest_night and coalesce(fp.first_known > a.as_of, true) and sf.crm_seats_active is not null
                then sf.crm_seats_active::double / sf.seats_purchased
            else coalesce(ef.active_seats_30d, 0)::double / sf.seats_purchased
        end as seat_utilization,
        case
            when coalesce(sf.seats_purchased, 0) <= 0 then null
            when a.latest_night and coalesce(fp.first_known > a.as_of, true) and sf.crm_seats_active is not null
                then 'crm'
            else 'events'
        end as seat_utilization_source,
        (coalesce(ef.active_seats_30d, 0) - coalesce(ef.active_seats_30d_prior, 0))::double
            / greatest(coalesce(ef.active_seats_30d_prior, 0), 1) as active_seat_growth_90d,
        coalesce(ef.product_events_30d, 0) as product_events_30d,
        coalesce(ef.pricing_page_visits_30d, 0) as pricing_page_visits_30d,
        coalesce(ef.upgrade_page_visits_30d, 0) as upgrade_page_visits_30d,
        coalesce(ef.engaged_decision_makers_90d, 0) as engaged_decision_makers_90d,
        cast(date_diff('day', cast(sf.first_started_at as date), a.as_of) as integer) as tenure_days,
        cast(coalesce(sf.mrr, 0) as double) as mrr,
        ou.account_id is not null as open_upsell_opportunity,
        a.latest_night,
        a.as_of
    from accounts a
    left join subscription_features sf on sf.as_of = a.as_of and sf.account_id = a.account_id
    left join event_features ef on ef.as_of = a.as_of and ef.account_id = a.account_id
    left join first_product_use fp on fp.account_id = a.account_id
    left join open_upsell ou on ou.as_of = a.as_of and ou.account_id = a.account_id
)

select * from final
order by as_of, account_id
