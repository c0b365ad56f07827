-- The keys the identity map's ranking matches evidence with, as two temp views (evidence_key,
-- contact_id): user ids through staging.contact_id_map (the merged person), emails through the
-- contacts' valid normalised emails. The ranking (identity_ranking_transform.sql) joins them and the map
-- records them (build_state.identity_ranked_user_ids / identity_ranked_emails), so the next night finds
-- the keys whose contacts changed (identity_ranking_affected.sql) by the very rule the ranking used.
create or replace temp view identity_user_id_keys as
select source_contact_id as evidence_key, contact_id from staging.contact_id_map;

create or replace temp view identity_email_keys as
select email_normalized as evidence_key, contact_id from staging.contacts
where email_valid and email_normalized is not null;
