-- grain: one row per contact with a web session (see contact_touches.sql). Every contact's touches,
-- recomputed.
create or replace table build_state.contact_touches as
select * from touches_computed;
