-- The staging.sessions transform (grain and rules: sql/staging/sessions.sql), as a table macro over
-- the temp view or table `sessions_input`: staging.events rows with their rowid as `event_row`. The full build feeds it every event;
-- the incremental night only the events of the visitors whose events changed
-- (sql/staging/sessions_merge.sql): a visitor's sessions depend on that visitor's events alone.
create or replace temp macro staging_sessions_transform(session_timeout_minutes, own_domains, search_sources) as table
    with source as (
        -- narrow rows: the two window passes sort only what sessionising needs (wide rows made them
        -- several times slower); everything else is joined back for the landing event only
        select
            event_row,
            visitor_key(anonymous_id, user_id) as visitor_key,
            ts,
            message_id,
            type = 'page' as is_page,
            contact_id
        from sessions_input
        where not is_bot
          and ts is not null
          and (anonymous_id is not null or user_id is not null)
    ),

    starts as (
        -- a visitor's events in (ts, message_id) order: a fixed order, so the first event of a session
        -- (its landing) is the one that starts it, whatever the input's row order
        select
            visitor_key, ts, is_page, contact_id, event_row,
            row_number() over visitor_events as seq,
            coalesce(
                ts - lag(ts) over visitor_events > to_minutes(session_timeout_minutes::bigint),
                true
            ) as is_session_start
        from source
        window visitor_events as (partition by visitor_key order by ts, message_id)
    ),

    numbered as (
        select
            *,
            sum(is_session_start::integer) over (partition by visitor_key order by seq) as session_number
        from starts
    ),

    totals as (
        select
            visitor_key,
            min(ts) as started_at,
            max(ts) as ended_at,
            count(*) filter (where is_page) as pageviews,
            count(*) as events,
            arg_min(contact_id, seq) as contact_id,  -- the earliest event that has a contact
            arg_min(event_row, seq) as landing_row
        from numbered
        group by visitor_key, session_number
    ),

    landings as (
        -- the session's first event, with everything the source rules look at
        select
            totals.* exclude (landing_row),
            events.message_id as landing_message_id,
            events.anonymous_id,
            events.page_url, events.page_path, events.referrer_host,
            events.utm_source, events.utm_medium, events.utm_campaign, events.utm_term, events.utm_content,
            events.gclid, events.dclid, events.gbraid, events.wbraid, events.gclsrc, events.msclkid, events.srsltid
        from totals
        join sessions_input as events
            on events.event_row = totals.landing_row
    ),

    referrer_hosts as (
        -- classified once per distinct landing referrer host
        select
            referrer_host,
            len(list_filter(own_domains, d -> referrer_host = d or ends_with(referrer_host, '.' || d))) > 0 as is_own_site,
            coalesce(
                -- a host that is or ends with a listed host: uk.search.yahoo.com, search.yahoo.com, ecosia.org
                case when len(list_filter(search_sources, s -> contains(s, '.') and (referrer_host = s or ends_with(referrer_host, '.' || s)))) > 0
                    then coalesce(list_filter(string_split(referrer_host, '.'), l -> list_contains(search_sources, l))[1], referrer_host)
                end,
                -- an engine name as the first label: google.com, google.co.uk, bing.com, duckduckgo.com
                case when list_contains(search_sources, string_split(referrer_host, '.')[1])
                    then string_split(referrer_host, '.')[1]
                end
            ) as search_engine
        -- from the input, not `landings`: a second reader of that relation would make DuckDB
        -- materialize it (the hosts of non-landing events only add unused lookup rows)
        from (select distinct referrer_host from sessions_input where referrer_host is not null)
    ),

    attributed as (
        select
            landings.*,
            referrer_hosts.is_own_site,
            referrer_hosts.search_engine,
            coalesce(gclid, dclid, gbraid, wbraid, gclsrc, msclkid, srsltid) as click_id,
            case
                when utm_source is not null or utm_medium is not null then 'utm'
                when coalesce(gclid, dclid, gbraid, wbraid, gclsrc) is not null then 'google_ads'
                when msclkid is not null then 'microsoft_ads'
                when srsltid is not null then 'google_merchant'
                when landings.referrer_host is null or referrer_hosts.is_own_site then 'direct'
                when referrer_hosts.search_engine is not null then 'search'
                else 'referral'
            end as rule
        from landings
        left join referrer_hosts
            on referrer_hosts.referrer_host = landings.referrer_host
    ),

    final as (
        select
            md5(visitor_key || '|' || landing_message_id) as session_id,
            visitor_key,
            anonymous_id,
            contact_id,
            started_at,
            ended_at,
            started_at::date as session_date,
            pageviews,
            events,
            page_url as landing_url,
            page_path as landing_path,
            case rule
                when 'utm' then coalesce(utm_source, '(not set)')
                when 'google_ads' then 'google'
                when 'microsoft_ads' then 'bing'
                when 'google_merchant' then 'google'
                when 'search' then search_engine
                when 'referral' then referrer_host
                else '(direct)'
            end as source,
            case rule
                when 'utm' then coalesce(utm_medium, '(not set)')
                when 'google_ads' then 'cpc'
                when 'microsoft_ads' then 'cpc'
                when 'google_merchant' then 'organic'
                when 'search' then 'organic'
                when 'referral' then 'referral'
                else '(none)'
            end as medium,
            coalesce(
                utm_campaign,
                case rule
                    when 'search' then '(organic)'
                    when 'google_merchant' then '(organic)'
                    when 'referral' then '(referral)'
                    when 'direct' then '(direct)'
                    else '(not set)'
                end
            ) as campaign,
            utm_term as term,
            utm_content as content,
            click_id,
            referrer_host,
            rule = 'direct' as is_direct
        from attributed
    )

    select * from final;
