-- grain: one row per anonymous_id that was ever tied to a CRM contact (see
-- sql/staging/identity_ranking_transform.sql). The full build: every anonymous id ranked. Records the
-- keys the evidence was matched with (build_state.identity_ranked_user_ids / identity_ranked_emails),
-- whole, so the next night re-ranks only the anonymous ids whose keys' contacts changed.
create schema if not exists staging;

create or replace table staging.identity_map as
select * from identity_ranked();

delete from build_state.identity_ranked_user_ids;
insert into build_state.identity_ranked_user_ids
select distinct evidence_key, contact_id from identity_user_id_keys;

delete from build_state.identity_ranked_emails;
insert into build_state.identity_ranked_emails
select distinct evidence_key, contact_id from identity_email_keys;
