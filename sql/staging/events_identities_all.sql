-- grain: none. After a full events build: the identity map and contact id map staging.events took its
-- contact_id from, whole (build_state.events_built_identities / events_built_user_ids).
delete from build_state.events_built_identities;
insert into build_state.events_built_identities select anonymous_id, contact_id from staging.identity_map;

delete from build_state.events_built_user_ids;
insert into build_state.events_built_user_ids select source_contact_id, contact_id from staging.contact_id_map;
