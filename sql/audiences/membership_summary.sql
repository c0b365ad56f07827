-- grain: one row per (audience, group) in audiences.memberships: members ever published, and those
-- in the latest publish of that audience
select
    audience,
    "group",
    count(*) as members_ever,
    count(*) filter (where last_published_at = latest) as in_latest_publish
from (
    select *, max(last_published_at) over (partition by audience) as latest
    from audiences.memberships
)
group by audience, "group"
order by audience, "group";
