-- grain: see sql/staging/identity_ranking_transform.sql. The full build's input: every evidence group.
create or replace temp view identity_ranking_input as select * from build_state.identity_evidence;
