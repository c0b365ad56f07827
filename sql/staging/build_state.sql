-- grain: none. What the last build of staging.identity_map, staging.events and staging.sessions was
-- made from, so the next night rebuilds only what changed (assets/staging/incremental.py). Schema
-- build_state is internal: dropping it only makes the next night a full rebuild.
create schema if not exists build_state;

-- one row per model (identity_map, events, sessions): the logic and rules the table was built with
create table if not exists build_state.builds (model varchar, fingerprint varchar, recorded_at timestamp);

-- per model (identity_map, events): the raw web event days (as raw.load_log had them) it reflects
create table if not exists build_state.built_days (model varchar, event_date date, loaded_at timestamp);

-- (build_state.raw_message_days, the hashed message ids of raw.web_events by day, is made whole by
-- sql/staging/raw_message_days_all.sql, never empty here: an empty one would look up nothing)

-- the identity map and contact id map staging.events took its contact_id from
create table if not exists build_state.events_built_identities (anonymous_id varchar, contact_id varchar);
create table if not exists build_state.events_built_user_ids (source_contact_id varchar, contact_id varchar);

-- the keys the identity map's evidence was matched with when it was last ranked: contact id map pairs
-- (user ids) and valid emails of staging.contacts (sql/staging/identity_ranking_affected.sql)
create table if not exists build_state.identity_ranked_user_ids (source_contact_id varchar, contact_id varchar);
create table if not exists build_state.identity_ranked_emails (email_normalized varchar, contact_id varchar);

-- visitors whose events changed since staging.sessions was built, from the earliest changed event's
-- time (filled by the events build; a NULL from_ts: all of the visitor's events). The column was added
-- later: a queue from before it gets NULL, which is what it meant then.
create table if not exists build_state.sessions_pending (visitor_key varchar, from_ts timestamp);
alter table build_state.sessions_pending add column if not exists from_ts timestamp;

-- every event (as staging.events has it now) of the visitors whose contact the incremental events build
-- re-pointed: their events did not change otherwise, so their sessions keep their bounds and only each
-- session's contact may change; the sessions build recomputes it from these rows (sql/staging/
-- sessions_merge.sql) instead of looking for the visitors' events among all of them. Emptied by the
-- sessions build; an events build that finds rows left over queues their visitors whole instead.
create table if not exists build_state.sessions_repointed (
    visitor_key varchar, ts timestamp, message_id varchar, is_bot boolean, contact_id varchar
);

-- contacts whose sessions changed since build_state.contact_touches was updated (filled by the
-- sessions build; a NULL contact_id: all of them). Read by assets/segments/touches.py.
create table if not exists build_state.touches_pending (contact_id varchar);

-- rows of a checked table rebuilt since its suite last passed, by the value of the suite's
-- limit_to_rebuilt column (staging.sessions: visitor_key); a NULL key is the whole table. The expectation
-- check validates only those rows and empties the table's entries when it passes (data_quality).
create table if not exists build_state.unchecked_rows (table_name varchar, key varchar);

-- the rows of staging.events whose event is one of the names in content_events_spec (config/content.yaml
-- counted_events, as the content interests last asked for them), with the columns the interests read:
-- they read these instead of every event ever. The spec also holds the fingerprint of the SQL that made
-- the copy, so a changed definition rebuilds it (sql/segments/content_events_rebuild.sql,
-- assets/segments/content_events.py). The incremental events build keeps it in step with staging.events
-- (sql/staging/events_merge.sql); a full events build empties the spec, so the next reader rebuilds it.
create table if not exists build_state.content_events (
    message_id varchar, contact_id varchar, event varchar, content_topic varchar, content_id varchar,
    page_path varchar, ts timestamp, is_bot boolean
);
create table if not exists build_state.content_events_spec (events varchar[], fingerprint varchar);
alter table build_state.content_events_spec add column if not exists fingerprint varchar;
