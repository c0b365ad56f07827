-- grain: one row per raw.web_events row of a message the incremental night must rebuild (temp table
-- events_input, with its rowid as raw_row), from what changed since the last build (build_state):
--   * raw days loaded (or reloaded) since: every message in them, old and new versions, rebuilt from
--     all their raw copies, so the dedupe picks the survivor a full build would;
--   * anonymous ids whose identity-map contact changed, user ids whose merged contact changed: only
--     the contact_id of their other messages changes (the one identity-derived column of
--     sql/staging/events_transform.sql), so those rows are re-pointed in place (events_repointed),
--     not rebuilt: their raw copies sit all over the history, and reading them back costs a scan of
--     every raw column.
-- Also: events_affected (message_id), the rebuilt messages; events_stale, their rows in staging.events
-- now (deleted first). sql/staging/events_merge.sql applies all three.
create or replace temp table events_changed_days as
select event_date from changed_web_days('events');

create or replace temp table events_changed_anonymous_ids as
select anonymous_id from (
    (select anonymous_id, contact_id from staging.identity_map except select * from build_state.events_built_identities)
    union all
    (select * from build_state.events_built_identities except select anonymous_id, contact_id from staging.identity_map)
)
group by anonymous_id;

create or replace temp table events_changed_user_ids as
select source_contact_id from (
    (select source_contact_id, contact_id from staging.contact_id_map except select * from build_state.events_built_user_ids)
    union all
    (select * from build_state.events_built_user_ids except select source_contact_id, contact_id from staging.contact_id_map)
)
group by source_contact_id;

create or replace temp table events_affected as
select message_id from raw.web_events where event_date in (select event_date from events_changed_days)
union
select message_id from staging.events where event_date in (select event_date from events_changed_days);

-- the days their raw copies are on: tonight's, and the days of earlier deliveries of the same
-- messages, looked up by hash in build_state.raw_message_days (sql/staging/raw_message_days_all.sql;
-- already updated for tonight's days). A hash collision only adds a day to look at.
create or replace temp table events_raw_days as
select distinct event_date from build_state.raw_message_days
where message_hash in (select message_hash(message_id) from events_affected);

-- their raw rows, on those days only, found on the id column alone, then read whole by rowid (reading
-- every column to keep a few rows costs several times more; a night's new or reloaded rows are
-- contiguous). Up to 50 days (DuckDB's dynamic_or_filter_threshold) go into the scan as a list, and
-- row groups whose event_date range holds none of them are skipped.
create or replace temp table events_raw_rows as
select rowid as raw_row
from raw.web_events
where event_date in (select event_date from events_raw_days)
  and message_id in (select message_id from events_affected);

create or replace temp table events_input as
select rowid as raw_row, *
from raw.web_events
where rowid in (select raw_row from events_raw_rows);

-- and their current rows in staging.events (deleted, their visitors queued, by events_merge.sql). A
-- stored row is one of its message's raw copies and keeps that copy's event_date: a changed day, or
-- the day of a copy still in raw (events_input holds every raw copy of these messages). Filtering on
-- those days first lets DuckDB skip the rest of the history by its zone maps. (event_date is never
-- NULL here: the loader sets it to the day file's date, and only loader-tracked raw tables are built
-- incrementally.)
create or replace temp table events_stale_days as
select event_date from events_changed_days
union
select event_date from events_input;

create or replace temp table events_stale as
select rowid as stale_row, visitor_key(anonymous_id, user_id) as visitor, ts
from staging.events
where event_date in (select event_date from events_stale_days)
  and message_id in (select message_id from events_affected);

-- the other rows of visitors whose contact changed: their new contact_id (the rule of
-- sql/staging/events_transform.sql: the merged contact of the user id, else the identity map's).
-- Every event of each such visitor (build_state.sessions_repointed needs them all: events_merge.sql):
-- the anonymous ids a changed user id was seen with come from the identity evidence (it holds every
-- (anonymous id, user id) pair of the raw events), so all events of those anonymous ids are read too.
-- Candidates are found on the two id columns (two scans, each with one semi join: an OR of the two
-- makes DuckDB evaluate both for every row, 2.5x slower); only they are joined.
create or replace temp table events_repointed_anonymous_ids as
select anonymous_id from events_changed_anonymous_ids
union
select anonymous_id from build_state.identity_evidence
where method = 'user_id' and evidence_key in (select source_contact_id from events_changed_user_ids)
union
-- days the evidence has not read yet (staging.events built without the identity map after a load;
-- none on a nightly run, which builds the map first)
select anonymous_id from staging.events
where event_date in (select event_date from changed_web_days('identity_map'))
  and anonymous_id is not null
  and user_id in (select source_contact_id from events_changed_user_ids);

create or replace temp table events_repointed as
with candidates as (
    select rowid as event_row, message_id, anonymous_id, user_id, ts, is_bot
    from staging.events
    where anonymous_id in (select anonymous_id from events_repointed_anonymous_ids)
    union all
    select rowid as event_row, message_id, anonymous_id, user_id, ts, is_bot
    from staging.events
    where anonymous_id is null and user_id in (select source_contact_id from events_changed_user_ids)
)
select c.event_row, coalesce(user_ids.contact_id, identities.contact_id) as contact_id,
       visitor_key(c.anonymous_id, c.user_id) as visitor, c.ts, c.message_id, c.is_bot
from candidates as c
anti join events_affected as a on a.message_id = c.message_id
left join staging.contact_id_map as user_ids on user_ids.source_contact_id = c.user_id
left join staging.identity_map as identities on identities.anonymous_id = c.anonymous_id;
