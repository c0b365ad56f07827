-- grain: see sql/staging/identity_ranking_replace.sql. The incremental night, in place: the affected
-- anonymous ids (sql/staging/identity_ranking_affected.sql) are ranked again, and only those whose map
-- row changed (a new contact, method or first time; a new row; no row any more: they lost all their
-- evidence or every match) are deleted and written; the recorded keys take tonight's pairs of the
-- changed ones. Every other row stays: the map is not rewritten for one new day.
create or replace temp table identity_ranking_ranked as
select * from identity_ranked();

create or replace temp table identity_ranking_changed as
select anonymous_id from (
    (select anonymous_id, contact_id, method, first_identified_at from staging.identity_map
     where anonymous_id in (select anonymous_id from identity_ranking_affected)
     except select * from identity_ranking_ranked)
    union all
    (select * from identity_ranking_ranked
     except select anonymous_id, contact_id, method, first_identified_at from staging.identity_map
     where anonymous_id in (select anonymous_id from identity_ranking_affected))
)
group by anonymous_id;

delete from staging.identity_map
where anonymous_id in (select anonymous_id from identity_ranking_changed);
insert into staging.identity_map
select * from identity_ranking_ranked
where anonymous_id in (select anonymous_id from identity_ranking_changed);

delete from build_state.identity_ranked_user_ids
where source_contact_id in (select source_contact_id from identity_ranking_changed_user_ids);
insert into build_state.identity_ranked_user_ids
select distinct evidence_key, contact_id from identity_user_id_keys
where evidence_key in (select source_contact_id from identity_ranking_changed_user_ids);

delete from build_state.identity_ranked_emails
where email_normalized in (select email_normalized from identity_ranking_changed_emails);
insert into build_state.identity_ranked_emails
select distinct evidence_key, contact_id from identity_email_keys
where evidence_key in (select email_normalized from identity_ranking_changed_emails);
