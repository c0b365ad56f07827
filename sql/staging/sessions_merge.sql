-- grain: see sql/staging/sessions.sql. The incremental night: the sessions of the visitors queued in
-- build_state.sessions_pending are rebuilt from all their events (sessions_input).
create or replace temp table sessions_visitors as
select distinct visitor_key from build_state.sessions_pending;

-- Only the columns the transform reads: the visitors' events sit all over the table, so every other
-- column would be decompressed whole. A visitor is its anonymous_id ('a:...'), else its user_id
-- ('u:...'): matched on the plain columns, so the scan builds no key strings.
create or replace temp table sessions_input as
with events as not materialized (
    select
        rowid as event_row, anonymous_id, user_id, ts, message_id, type, contact_id, is_bot, page_url, page_path,
        referrer_host, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
        gclid, dclid, gbraid, wbraid, gclsrc, msclkid, srsltid
    from staging.events
)
select * from events
where anonymous_id in (select substr(visitor_key, 3) from sessions_visitors where visitor_key like 'a:%')
union all
select * from events
where anonymous_id is null
  and user_id in (select substr(visitor_key, 3) from sessions_visitors where visitor_key like 'u:%');
