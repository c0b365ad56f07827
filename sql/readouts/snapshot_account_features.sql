-- grain: one row per (snapshot as_of, account): the upsell features of sql/segments/account_features.sql
-- at every snapshot of $snapshots in ONE set-based pass, for past nights (crm_fallback = false).
--
-- Same columns, rules and results as running sql/segments/account_features.sql once per snapshot with
-- $crm_fallback = false (tests/test_readouts_criteria.py pins the equality; change both files together):
-- point-in-time at each as_of, only rows with timestamps before its cutoff (as_of + 1 day) and only
-- events that had landed by then (event_date <= as_of: a late event was not known that night).
--
-- Why it is faster: the segment SQL reads ~120 days of events and joins them to contacts once per
-- snapshot. Here events are read once, reduced to one row per (contact, event day, landing day) with
-- the counts the features need, and each row is joined to the few snapshots whose windows contain it.
-- Every window boundary is a midnight (cutoff - N days), so for a TIMESTAMP `ts`:
--   ts < cutoff                   <=> day <= as_of                 (day = cast(ts as date))
--   ts >= cutoff - interval N day <=> day >= as_of - (N - 1)
-- and an event is known at as_of when day <= as_of and event_date <= as_of.
--
-- With crm_fallback = false, `latest_night` is false for every snapshot, so the CRM's seats_active is
-- never used: seat_utilization is active_seats_30d / seats_purchased (null without purchased seats),
-- seat_utilization_source is 'events' (null without purchased seats), and a cancelled subscription
-- with an end date counts as active until then. That is why no "product usage ever" scan is needed.
--
-- Parameters: $snapshots DATE[]; $product_events, $pricing_paths, $upgrade_paths, $decision_seniorities,
-- $cancelled_statuses VARCHAR[] (from config/upsell.yaml).
-- The caller registers `contact_persona` (contact_id, persona_seniority, persona_function).
with
snapshots as (
    select distinct
        s.as_of,
        cast(s.as_of as date) + interval 1 day as cutoff
    from unnest(cast($snapshots as date[])) as s(as_of)
    where s.as_of is not null
),

first_subscription as (
    select account_id, min(started_at) as first_started_at
    from staging.subscriptions
    group by account_id
),

accounts as (
    -- As in the segment SQL: created before the cutoff, no created date, or a subscription started
    -- before the cutoff (CRM created dates of migrated accounts can postdate their first subscription).
    select s.as_of, a.account_id
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
        s.mrr,
        s.started_at,
        (s.ends_at is null or s.ends_at >= p.cutoff)
            -- status is today's snapshot: a cancelled subscription with an end date was active until
            -- then; with no end date, cancelled means not active (latest_night is false here).
            and not (
                list_contains($cancelled_statuses, lower(coalesce(s.status, '')))
                and s.ends_at is null
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
        cast(coalesce(sum(mrr) filter (where is_active), 0) as double) as mrr,
        min(started_at) as first_started_at
    from subscriptions_at
    group by as_of, account_id
),

page_kinds as (
    -- Prefix matching (case-insensitive, as the segment SQL) once per distinct path (a few dozen), not
    -- once per event: the paths that are pricing / upgrade pages, as two short lists to look events up in.
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
    -- One row per contact row with an account (as the segment SQL's inner join: a contact listed
    -- twice counts twice in event counts, once in distinct counts), keyed by integers.
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
    -- Per (snapshot, contact, account): the event counts in each window of the segment SQL, from the
    -- (contact, day) rows known at that snapshot and within its 120 days.
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
            else coalesce(ef.active_seats_30d, 0)::double / sf.seats_purchased
        end as seat_utilization,
        case
            when coalesce(sf.seats_purchased, 0) <= 0 then null
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
        false as latest_night,
        a.as_of
    from accounts a
    left join subscription_features sf on sf.as_of = a.as_of and sf.account_id = a.account_id
    left join event_features ef on ef.as_of = a.as_of and ef.account_id = a.account_id
    left join open_upsell ou on ou.as_of = a.as_of and ou.account_id = a.account_id
)

select * from final
order by as_of, account_id
