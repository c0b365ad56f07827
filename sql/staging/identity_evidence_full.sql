-- grain: see sql/staging/identity_map_transform.sql. The full build's input: every raw row.
create or replace temp view identity_input as select * from raw.web_events;
