-- grain: one row per (audience, contact_id) ever published (audiences.memberships)
-- source: audiences.members of $audience, after at least one destination published (or was unchanged)
-- first_published_at is set once and never changes; last_published_at and the group move forward only
-- (re-running an older night never rewinds them). Re-running the same night changes nothing.
merge into audiences.memberships as m
using (
    select audience, contact_id, "group" from audiences.members where audience = $audience
) as s
on m.audience = s.audience and m.contact_id = s.contact_id
when matched and $published_at::timestamp >= m.last_published_at then update set
    "group" = s."group",
    last_published_at = $published_at::timestamp
when not matched then insert (audience, contact_id, "group", first_published_at, last_published_at)
    values (s.audience, s.contact_id, s."group", $published_at::timestamp, $published_at::timestamp);
