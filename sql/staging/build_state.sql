-- grain: none. What the last build of staging.identity_map, staging.events and staging.sessions was
-- made from, so the next night rebuilds only what changed (assets/staging/incremental.py). Schema build_state is internal:
-- dropping it only makes the next night a full rebuild.
create schema if not exists build_state;

-- one row per model (identity_map, events, sessions): the logic and rules the table was built with
create table if not exists build_state.builds (model varchar, fingerprint varchar, recorded_at timestamp);

-- the raw web event days (as raw.load_log had them) staging.events reflects
create table if not exists build_state.events_built_days (event_date date, loaded_at timestamp);

-- the identity map and contact id map staging.events took its contact_id from
create table if not exists build_state.events_built_identities (anonymous_id varchar, contact_id varchar);
create table if not exists build_state.events_built_user_ids (source_contact_id varchar, contact_id varchar);

-- the raw web event days build_state.identity_evidence reflects (its groups: identity_evidence_replace.sql)
create table if not exists build_state.identity_built_days (event_date date, loaded_at timestamp);

-- visitors whose events changed since staging.sessions was built (filled by the events build)
create table if not exists build_state.sessions_pending (visitor_key varchar);
