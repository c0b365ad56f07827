-- grain: one row per (anonymous_id, method, evidence_key) of raw.web_events (internal build state;
-- see sql/staging/identity_map_transform.sql). The full build: every group from every raw row.
create or replace table build_state.identity_evidence as
select * from identity_evidence_transform($form_events);
