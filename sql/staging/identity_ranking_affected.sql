-- grain: the evidence groups the incremental night re-ranks (temp table identity_ranking_input): every
-- group of the anonymous ids whose ranking can have changed since staging.identity_map was built:
--   * their evidence changed tonight (identity_evidence_changed, from identity_evidence_merge.sql);
--   * a user id of theirs now maps to another merged contact (staging.contact_id_map against the pairs
--     the map was ranked with, build_state.identity_ranked_user_ids), or to none;
--   * an email of theirs now belongs to another contact, or is no longer a contact's valid email
--     (staging.contacts against build_state.identity_ranked_emails).
-- Every other anonymous id has the same groups matched to the same contacts: its map row stands.
-- Also: identity_ranking_affected (anonymous_id), the ids identity_ranking_merge.sql ranks again. A pair
-- with a NULL contact never equals itself here: its ids are re-ranked every night, which is only slower.
-- (a full join of the pairs keeps the pairs found on one side only: faster than EXCEPT both ways on 1M
-- rows; a pair listed twice matches all the same)
create or replace temp table identity_ranking_changed_user_ids as
select coalesce(now.source_contact_id, ranked.source_contact_id) as source_contact_id
from staging.contact_id_map as now
full join build_state.identity_ranked_user_ids as ranked
    on ranked.source_contact_id = now.source_contact_id and ranked.contact_id = now.contact_id
where now.source_contact_id is null or ranked.source_contact_id is null
group by all;

create or replace temp table identity_ranking_changed_emails as
select coalesce(now.email_normalized, ranked.email_normalized) as email_normalized
from (select email_normalized, contact_id from staging.contacts where email_valid and email_normalized is not null) as now
full join build_state.identity_ranked_emails as ranked
    on ranked.email_normalized = now.email_normalized and ranked.contact_id = now.contact_id
where now.email_normalized is null or ranked.email_normalized is null
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
