-- grain: see sql/staging/identity_evidence_replace.sql. The incremental night: the stored groups of
-- the stale anonymous ids are dropped, and the rest merged with tonight's groups (the earliest event
-- of the two wins; sql/staging/identity_evidence_affected.sql says why that is exact).
create or replace table build_state.identity_evidence as
select anonymous_id, method, evidence_key, min(first_event) as first_event
from (
    select * from build_state.identity_evidence
    where anonymous_id not in (select anonymous_id from identity_stale_anonymous_ids)
    union all
    select * from identity_evidence_transform($form_events)
)
group by anonymous_id, method, evidence_key;
