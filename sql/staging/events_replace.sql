-- grain: see sql/staging/events.sql. The full build: staging.events from every raw row.
create or replace table staging.events as
select * from staging_events_transform($bot_patterns, $form_events);
