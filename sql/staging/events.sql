-- grain: one row per message_id (a message delivered twice keeps its earliest ts; ties: the earlier
-- event_date, file and line). An event without a messageId gets a stable id from its file and line.
-- source: raw.web_events, staging.identity_map, staging.contact_id_map
--
-- is_bot         : the user agent matches any $bot_patterns regex (case ignored); evaluated once per
--                  distinct user agent.
-- referrer_host  : the referrer's host, lowercase, without www. or port.
-- utm_*          : context.campaign, else the page URL's utm_* query parameter (per field).
-- click ids      : gclid, dclid, gbraid, wbraid, gclsrc, msclkid, srsltid, fbclid from the page URL.
-- email_normalized: identify traits.email, or properties.email of a form event ($form_events).
-- contact_id     : the userId when it is a CRM contact_id (merged survivor), else the identity map's
--                  contact for the anonymous_id (which also covers events before the identify call).
create schema if not exists staging;

-- The full build: every raw row (sql/staging/events_transform.sql holds the logic).
create or replace temp view events_input as select rowid as raw_row, * from raw.web_events;
