-- grain: the evidence groups the incremental night re-ranks (temp table identity_ranking_input): every
-- group of the anonymous ids whose ranking can have changed since staging.identity_map was built:
--   * their evidence changed tonight (identity_evidence_changed, from identity_evidence_merge.sql);
--   * a user id of theirs now maps to another merged contact, or to none, or an email of theirs now
--     belongs to another contact or is no longer a contact's valid email: tonight's keys
--     (identity_ranking_keys.sql) against the pairs the map was ranked with
--     (build_state.identity_ranked_user_ids / identity_ranked_emails).
-- Every other anonymous id has the same groups matched to the same contacts: its map row stands.
-- Also: identity_ranking_affected (anonymous_id), the ids identity_ranking_merge.sql ranks again. A pair
-- with a NULL contact never equals itself here: its ids are re-ranked every night, which is only slower.
-- (a full join of the pairs keeps the pairs found on one side only: faster than EXCEPT both ways on 1M
-- rows; a pair listed twice matches all the same)
create or replace temp table identity_ranking_changed_user_ids as
select coalesce(now.evidence_key, ranked.source_contact_id) as source_contact_id
from identity_user_id_keys as now
full join build_state.identity_ranked_user_ids as ranked
    on ranked.source_contact_id = now.evidence_key and ranked.contact_id = now.contact_id
where now.evidence_key is null or ranked.source_contact_id is null
group by all;

create or replace temp table identity_ranking_changed_emails as
select coalesce(now.evidence_key, ranked.email_normalized) as email_normalized
from identity_email_keys as now
full join build_state.identity_ranked_emails as ranked
    on ranked.email_normalized = now.evidence_key and ranked.contact_id = now.contact_id
where now.evidence_key is null or ranked.email_normalized is null
group by all;

create or replace temp table identity_ranking_affected as
select anonymous_id from identity_evidence_changed
union
select anonymous_id from build_state.identity_evidence
where method = 'user_id' and evidence_key in (select source_contact_id from identity_ranking_changed_user_ids)
union
select anonymous_id from build_state.identity_evidence
where method in ('identify', 'form') and evidence_key in (select email_normalized from identity_ranking_changed_emails);

create or replace temp table identity_ranking_input as
select * from build_state.identity_evidence
where anonymous_id in (select anonymous_id from identity_ranking_affected);
