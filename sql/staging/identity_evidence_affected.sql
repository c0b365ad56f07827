-- grain: the raw.web_events rows the incremental night reads for the identity evidence (temp table
-- identity_input), from what changed since the last build (build_state.built_days):
--   * every row of the raw days loaded (or reloaded) since;
--   * every row of the anonymous ids with a stored group whose earliest event was on a changed day
--     (a reloaded day may have lost it): those groups are dropped and recomputed from all their rows.
-- Any other stored group keeps its earliest event (its day is unchanged), and only tonight's rows can
-- beat it. A normal night (one new day) reads that day only.
create or replace temp table identity_changed_days as
select event_date from changed_web_days('identity_map');

create or replace temp table identity_stale_anonymous_ids as
select distinct anonymous_id
from build_state.identity_evidence
where first_event.event_date in (select event_date from identity_changed_days);

create or replace temp table identity_input as
select * from raw.web_events where event_date in (select event_date from identity_changed_days);

insert into identity_input
select *
from raw.web_events
where anonymous_id in (select anonymous_id from identity_stale_anonymous_ids)
  and event_date not in (select event_date from identity_changed_days);
