-- grain: none. After an incremental events build: the stored identity map and contact id map
-- (build_state.events_built_identities / events_built_user_ids) take tonight's rows of the anonymous ids
-- and user ids whose contact changed (sql/staging/events_affected.sql found them as the difference of
-- the two); every other row already equals tonight's. Not a copy of 780k rows every night.
delete from build_state.events_built_identities
where anonymous_id in (select anonymous_id from events_changed_anonymous_ids);
insert into build_state.events_built_identities
select anonymous_id, contact_id from staging.identity_map
where anonymous_id in (select anonymous_id from events_changed_anonymous_ids);

delete from build_state.events_built_user_ids
where source_contact_id in (select source_contact_id from events_changed_user_ids);
insert into build_state.events_built_user_ids
select source_contact_id, contact_id from staging.contact_id_map
where source_contact_id in (select source_contact_id from events_changed_user_ids);

drop table events_changed_anonymous_ids;
drop table events_changed_user_ids;
