-- grain: see sql/staging/identity_evidence_replace.sql. The incremental night, in place: tonight's
-- groups (identity_tonight) are merged with the stored groups of the same anonymous ids (the earliest
-- event of the two wins; sql/staging/identity_evidence_affected.sql says why that is exact), and the
-- stored groups of the stale anonymous ids are dropped (tonight's input holds all their rows). Every
-- other stored group stays as it is: the table is not rewritten for one new day.
create or replace temp table identity_tonight as
select * from identity_evidence_transform($form_events);

-- first, while the rowids are the ones read here
create or replace temp table identity_replaced as
select rowid as evidence_row, anonymous_id, method, evidence_key, first_event
from build_state.identity_evidence
where anonymous_id in (select anonymous_id from identity_stale_anonymous_ids)
   or anonymous_id in (select anonymous_id from identity_tonight);

delete from build_state.identity_evidence where rowid in (select evidence_row from identity_replaced);

insert into build_state.identity_evidence
select anonymous_id, method, evidence_key, min(first_event) as first_event
from (
    select anonymous_id, method, evidence_key, first_event
    from identity_replaced
    where anonymous_id not in (select anonymous_id from identity_stale_anonymous_ids)
    union all
    select anonymous_id, method, evidence_key, first_event from identity_tonight
)
group by anonymous_id, method, evidence_key;

-- the anonymous ids whose groups changed tonight: the identity map re-ranks them
-- (sql/staging/identity_ranking_affected.sql, which drops this table)
create or replace temp table identity_evidence_changed as
select anonymous_id from identity_stale_anonymous_ids
union
select anonymous_id from identity_tonight;
