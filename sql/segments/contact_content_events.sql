-- grain: one row per content download or form fill of a known contact (staging.events), the input of
-- content interests. $events: the event names that count (config/content.yaml).
select contact_id, event, content_topic, content_id, page_path, ts
from staging.events
where contact_id is not null
  and not is_bot
  and list_contains($events, event)
