-- grain: one row per raw.web_events row of a message the incremental night must rebuild (temp table
-- events_input, with its rowid as raw_row), from what changed since the last build (build_state):
--   * raw days loaded (or reloaded) since: every message in them, old and new versions;
--   * anonymous ids whose identity-map contact changed, user ids whose merged contact changed:
--     every message of theirs (their contact_id changes).
-- All copies of an affected message are in the input, so the dedupe picks the survivor a full build
-- would. Also: events_affected (message_id), the messages to delete from staging.events first, and
-- events_stale, their rows there now.
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
select message_id from staging.events
where event_date in (select event_date from events_changed_days)
   or anonymous_id in (select anonymous_id from events_changed_anonymous_ids)
   or user_id in (select source_contact_id from events_changed_user_ids);

-- their raw rows: found on the id column alone, then read whole by rowid (reading every column of the
-- history to keep a few rows costs several times more; a new night's rows are contiguous)
create or replace temp table events_raw_rows as
select rowid as raw_row from raw.web_events where message_id in (select message_id from events_affected);

create or replace temp table events_input as
select rowid as raw_row, *
from raw.web_events
where rowid in (select raw_row from events_raw_rows);

-- and their current rows in staging.events (deleted, their visitors queued, by events_merge.sql)
create or replace temp table events_stale as
select rowid as stale_row, coalesce('a:' || anonymous_id, 'u:' || user_id) as visitor
from staging.events
where message_id in (select message_id from events_affected);
