-- grain: one row per raw.web_events row of a message the incremental night must rebuild (temp table
-- events_input, with its rowid as raw_row), from what changed since the last build (build_state):
--   * raw days loaded (or reloaded) since: every message in them, old and new versions;
--   * anonymous ids whose identity-map contact changed, user ids whose merged contact changed:
--     every message of theirs (their contact_id changes).
-- All copies of an affected message are in the input, so the dedupe picks the survivor a full build
-- would. Also: events_affected (message_id), the messages to delete from staging.events first.
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

create or replace temp table events_input as
select rowid as raw_row, *
from raw.web_events
where message_id in (select message_id from events_affected);
