-- grain: see sql/staging/sessions.sql. The incremental night: the visitors queued in
-- build_state.sessions_pending get their sessions rebuilt from the earliest change on (sessions_input).
-- A visitor's sessions are cut where its events are more than the timeout apart, and each session's
-- columns come from its own events, so a change at time t leaves every session before the one it
-- joins, splits or edits as it was. That session is the stored one that began at or before t and ended
-- at most the timeout before t (there is at most one: stored sessions are further apart than the
-- timeout); the rebuild starts at its start (rebuild_from), else at t itself. A queued NULL from_ts
-- rebuilds all of the visitor's sessions.
create or replace temp table sessions_visitors as
select visitor_key, if(bool_or(from_ts is null), null, min(from_ts)) as from_ts
from build_state.sessions_pending
group by visitor_key;

-- the visitors whose sessions change tonight: queued ones, and re-pointed ones (only their sessions'
-- contacts change: build_state.sessions_repointed); the sessions suite checks theirs (sessions_apply.sql)
create or replace temp table sessions_changed_visitors as
select visitor_key from sessions_visitors
union
select visitor_key from build_state.sessions_repointed;

-- their stored sessions: one scan of staging.sessions
create or replace temp table sessions_stored as
select rowid as session_row, visitor_key, started_at, ended_at, contact_id
from staging.sessions
where visitor_key in (select visitor_key from sessions_changed_visitors);

create or replace temp table sessions_regions as
select
    v.visitor_key,
    case when v.from_ts is not null then least(v.from_ts, min(s.started_at)) end as rebuild_from
from sessions_visitors as v
left join sessions_stored as s
    on s.visitor_key = v.visitor_key
   and s.started_at <= v.from_ts
   and s.ended_at >= v.from_ts - to_minutes($session_timeout_minutes::bigint)
group by v.visitor_key, v.from_ts;

-- the stored sessions the rebuild replaces (sql/staging/sessions_apply.sql deletes them)
create or replace temp table sessions_replaced as
select s.session_row, s.contact_id
from sessions_stored as s
join sessions_regions as r on r.visitor_key = s.visitor_key
where r.rebuild_from is null or s.started_at >= r.rebuild_from;

-- the re-pointed visitors' stored sessions that are not rebuilt: each one's contact recomputed by the
-- transform's rule (the contact of its first non-bot event, by ts then message_id, that has one) from
-- their events, which are exactly the visitor's events between the session's start and end
create or replace temp table sessions_recontacted as
select s.session_row, s.contact_id as old_contact_id, arg_min(e.contact_id, (e.ts, e.message_id)) as contact_id
from sessions_stored as s
join build_state.sessions_repointed as e
    on e.visitor_key = s.visitor_key and e.ts between s.started_at and s.ended_at and not e.is_bot
where s.session_row not in (select session_row from sessions_replaced)
group by s.session_row, s.contact_id;

-- Where to read: on a normal night nearly every queued visitor's rebuild starts on the new day or just
-- before it (a session begun the evening before, an event that came a day or two late). Those from a
-- week before the median visitor's rebuild_from on (recent_from) are read from the end of
-- staging.events alone (it is appended night by night: DuckDB skips the older row groups by their ts
-- range); the few others (a reloaded old day, a very late event) from all of it.
create or replace temp table sessions_read_from as
select quantile_disc(rebuild_from, 0.5) - interval 7 day as recent_from from sessions_regions;

-- Only the columns the transform reads: the visitors' events sit all over the table, so every other
-- column would be decompressed whole. A visitor is its anonymous_id ('a:...'), else its user_id
-- ('u:...'): matched on the plain columns, so the scan builds no key strings. Events without a ts are
-- in no session.
create or replace temp table sessions_input as
with events as not materialized (
    select
        rowid as event_row, anonymous_id, user_id, ts, message_id, type, contact_id, is_bot, page_url, page_path,
        referrer_host, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
        gclid, dclid, gbraid, wbraid, gclsrc, msclkid, srsltid,
        coalesce(anonymous_id, user_id) as visitor_id, anonymous_id is not null as by_anonymous_id
    from staging.events
),

recent_events as not materialized (
    select * from events where ts >= (select recent_from from sessions_read_from)
),

regions as not materialized (
    select
        substr(visitor_key, 3) as visitor_id,
        visitor_key like 'a:%' as by_anonymous_id,
        rebuild_from,
        coalesce(rebuild_from >= (select recent_from from sessions_read_from), false) as is_recent
    from sessions_regions
)

select recent_events.* exclude (visitor_id, by_anonymous_id)
from recent_events
join regions using (visitor_id, by_anonymous_id)
where regions.is_recent and recent_events.ts >= regions.rebuild_from
union all
select events.* exclude (visitor_id, by_anonymous_id)
from events
join regions using (visitor_id, by_anonymous_id)
where not regions.is_recent and (regions.rebuild_from is null or events.ts >= regions.rebuild_from);
