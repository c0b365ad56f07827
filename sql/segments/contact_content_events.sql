-- grain: one row per content download or form fill of a known contact (staging.events, through its
-- copy build_state.content_events: assets/segments/content_events.py makes sure it holds the rows of
-- $events first), the input of content interests. $events: the event names that count
-- (config/content.yaml).
select contact_id, event, content_topic, content_id, page_path, ts
from build_state.content_events
where contact_id is not null
  and not is_bot
  and list_contains($events, event);
