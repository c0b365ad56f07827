-- grain: one row per session: a visitor's non-bot events with no gap longer than
-- $session_timeout_minutes (a visitor = anonymous_id, or user_id when the event has no anonymous_id)
-- source: staging.events
--
-- session_id = md5(visitor_key + first message_id): stable across re-runs over the same events.
-- visitor_key = 'a:' + anonymous_id, or 'u:' + user_id for events without one (the incremental
--               night rebuilds the sessions of a visitor by this key).
-- anonymous_id is NULL for sessions of events that only carry a user_id.
-- contact_id = the session's earliest event contact_id (a CRM userId, else the identity map, which
--              also stitches sessions that happened before the visitor identified).
-- The FIRST event of the session decides source / medium / campaign / term / content, first rule wins:
--   1. UTM (context.campaign, else the landing URL's utm_*): source = utm_source, medium = utm_medium
--      ('(not set)' for the missing one); applies when utm_source or utm_medium is present.
--   2. click ids: gclid, dclid, gbraid, wbraid, gclsrc -> google / cpc; msclkid -> bing / cpc;
--      srsltid -> google / organic. (fbclid has no GA4 rule: it falls through to the referrer.)
--   3. referrer host (lowercase, no www.): a host on our own site ($own_domains or a subdomain) is
--      ignored; a search engine -> source = engine / organic; any other host -> source = host /
--      referral. Search engines come from GA4's SOURCE_CATEGORY_SEARCH list ($search_sources): the
--      host's first label is a listed name (google.co.uk -> google, duckduckgo.com -> duckduckgo), or
--      the host is / ends with a listed host (uk.search.yahoo.com, search.yahoo.com -> yahoo;
--      ecosia.org -> ecosia.org). mail.google.com and the like stay referrals.
--   4. (direct) / (none).
-- campaign = utm_campaign, else GA4's placeholders: (organic), (referral), (direct), or (not set) for
-- click ids and UTM without a campaign. term and content come from UTM only.
create schema if not exists staging;

-- The full build: every event (sql/staging/sessions_transform.sql holds the logic).
create or replace temp view sessions_input as select rowid as event_row, * from staging.events;
