-- grain: one row per contact with a web session (see contact_touches.sql). The queued contacts'
-- touches replaced by their recomputed ones (a contact left with no session has none).
delete from build_state.contact_touches
where contact_id in (select contact_id from build_state.touches_pending);

insert into build_state.contact_touches
select * from touches_computed;
