-- The staging.events transform (grain and rules: sql/staging/events.sql), as a table macro over the
-- temp view or table `events_input`: raw.web_events rows with their rowid as `raw_row`. The full
-- build feeds it every raw row; the incremental night only the raw rows of the messages it touches
-- (sql/staging/events_incremental.sql), so both paths run exactly this logic. Every copy of a
-- message must be in the input for the dedupe to choose the same survivor.
create or replace temp macro staging_events_transform(bot_patterns, form_events) as table
    with keyed as not materialized (
        -- narrow view of the dedupe key: finding re-delivered messages must not drag whole rows around
        -- (read twice, by the hash pass and the ranking of its few candidates: not materialized, as
        -- DuckDB would otherwise copy all 20M keys first)
        select
            raw_row,
            coalesce(message_id, 'missing-' || md5(concat_ws('|', _source_file, _line))) as message_id,
            ts, event_date, _source_file, _line
        from events_input
    ),

    redelivered_hashes as (
        -- a cheap first pass on 64-bit hashes (grouping 20M message ids as text costs several times
        -- more): a message delivered once has a hash seen once, except for the rare collision, which
        -- only adds a candidate that the exact ranking below keeps
        select hash(message_id) as message_hash from keyed group by message_hash having count(*) > 1
    ),

    dropped_copies as (
        -- every copy of a re-delivered message but the first (ranked only within the few candidates)
        select raw_row
        from keyed
        where hash(message_id) in (select message_hash from redelivered_hashes)
        qualify row_number() over (
            partition by message_id
            order by ts asc nulls last, event_date asc nulls last, _source_file asc nulls last, _line asc nulls last
        ) > 1
    ),

    deduplicated as (
        select
            coalesce(message_id, 'missing-' || md5(concat_ws('|', _source_file, _line))) as message_id,
            event_date,
            ts,
            lower(trim_fast(type)) as type,
            nullif(trim_fast(event), '') as event,
            anonymous_id,
            user_id,
            nullif(page_url, '') as page_url,
            nullif(page_path, '') as page_path,
            nullif(page_title, '') as page_title,
            nullif(page_referrer, '') as referrer,
            nullif(trim_fast(campaign_source), '') as campaign_source,
            nullif(trim_fast(campaign_medium), '') as campaign_medium,
            nullif(trim_fast(campaign_name), '') as campaign_name,
            nullif(trim_fast(campaign_term), '') as campaign_term,
            nullif(trim_fast(campaign_content), '') as campaign_content,
            user_agent,
            traits_email,
            properties
        from events_input as raw_events
        anti join dropped_copies on dropped_copies.raw_row = raw_events.raw_row
    ),

    user_agents as (
        -- one regex evaluation per distinct user agent, not per event
        select
            user_agent,
            len(bot_patterns) > 0
            and regexp_matches(
                user_agent,
                '(?i)' || array_to_string(list_transform(bot_patterns, p -> '(?:' || p || ')'), '|')
            ) as is_bot
        -- from the input, not `deduplicated`: a second reader of that wide relation would make DuckDB
        -- materialize all of it (a dropped copy's user agent only adds an unused lookup row)
        from (select distinct user_agent from events_input where user_agent is not null)
    ),

    parsed as (
        select
            *,
            -- the query string, only when there is one (most page URLs have none: skip the regexes)
            case when contains(page_url, '?') then regexp_extract(page_url, '\?([^#]*)', 1) end as query,
            lower(query) as query_lower,
            nullif(
                regexp_replace(
                    regexp_extract(lower(referrer), '^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?([^/:?#\s]+)', 1),
                    '^www\.', ''
                ),
                ''
            ) as referrer_host
        from deduplicated
    ),

    url_fields as (
        select
            *,
            -- a cheap contains() first: most URLs carry none of these parameters.
            -- '+' is a space in a query string; url_decode leaves it alone
            case when contains(query_lower, 'utm_source=') then nullif(url_decode(replace(regexp_extract(query, '(?i)(?:^|&)utm_source=([^&]*)', 1), '+', ' ')), '') end as url_utm_source,
            case when contains(query_lower, 'utm_medium=') then nullif(url_decode(replace(regexp_extract(query, '(?i)(?:^|&)utm_medium=([^&]*)', 1), '+', ' ')), '') end as url_utm_medium,
            case when contains(query_lower, 'utm_campaign=') then nullif(url_decode(replace(regexp_extract(query, '(?i)(?:^|&)utm_campaign=([^&]*)', 1), '+', ' ')), '') end as url_utm_campaign,
            case when contains(query_lower, 'utm_term=') then nullif(url_decode(replace(regexp_extract(query, '(?i)(?:^|&)utm_term=([^&]*)', 1), '+', ' ')), '') end as url_utm_term,
            case when contains(query_lower, 'utm_content=') then nullif(url_decode(replace(regexp_extract(query, '(?i)(?:^|&)utm_content=([^&]*)', 1), '+', ' ')), '') end as url_utm_content,
            case when contains(query_lower, 'gclid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)gclid=([^&]*)', 1)), '') end as gclid,
            case when contains(query_lower, 'dclid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)dclid=([^&]*)', 1)), '') end as dclid,
            case when contains(query_lower, 'gbraid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)gbraid=([^&]*)', 1)), '') end as gbraid,
            case when contains(query_lower, 'wbraid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)wbraid=([^&]*)', 1)), '') end as wbraid,
            case when contains(query_lower, 'gclsrc=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)gclsrc=([^&]*)', 1)), '') end as gclsrc,
            case when contains(query_lower, 'msclkid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)msclkid=([^&]*)', 1)), '') end as msclkid,
            case when contains(query_lower, 'srsltid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)srsltid=([^&]*)', 1)), '') end as srsltid,
            case when contains(query_lower, 'fbclid=') then nullif(url_decode(regexp_extract(query, '(?i)(?:^|&)fbclid=([^&]*)', 1)), '') end as fbclid
        from parsed
    ),

    final as (
        select
            e.message_id,
            e.event_date,
            e.ts,
            e.type,
            e.event,
            e.anonymous_id,
            e.user_id,
            coalesce(user_ids.contact_id, identities.contact_id) as contact_id,
            e.page_url,
            e.page_path,
            e.page_title,
            e.referrer,
            e.referrer_host,
            e.user_agent,
            coalesce(user_agents.is_bot, false) as is_bot,
            -- plain trim: a macro would repeat its argument (the JSON extraction) in every branch
            nullif(lower(trim(
                case
                    when e.type = 'identify' then e.traits_email
                    when e.type = 'track' and list_contains(form_events, e.event)
                        then json_extract_string(e.properties, '$.email')
                end
            )), '') as email_normalized,
            coalesce(e.campaign_source, e.url_utm_source) as utm_source,
            coalesce(e.campaign_medium, e.url_utm_medium) as utm_medium,
            coalesce(e.campaign_name, e.url_utm_campaign) as utm_campaign,
            coalesce(e.campaign_term, e.url_utm_term) as utm_term,
            coalesce(e.campaign_content, e.url_utm_content) as utm_content,
            e.gclid,
            e.dclid,
            e.gbraid,
            e.wbraid,
            e.gclsrc,
            e.msclkid,
            e.srsltid,
            e.fbclid,
            nullif(trim(json_extract_string(e.properties, '$.topic')), '') as content_topic,
            nullif(trim(json_extract_string(e.properties, '$.content_id')), '') as content_id,
            e.properties
        from url_fields as e
        left join user_agents
            on user_agents.user_agent = e.user_agent
        left join staging.contact_id_map as user_ids
            on user_ids.source_contact_id = e.user_id
        left join staging.identity_map as identities
            on identities.anonymous_id = e.anonymous_id
    )

    select * from final;
