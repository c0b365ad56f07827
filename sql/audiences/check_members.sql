-- grain: one row: how many audiences.members rows break a rule that must always hold (0 = fine)
-- source: audiences.members, staging.contacts, audience_kinds (registered: audience, kind)
with members as (
    select m.*, c.email_opt_out, c.is_suppressed, s.is_customer, k.kind
    from audiences.members as m
    left join staging.contacts as c on c.contact_id = m.contact_id
    left join segments.contact_segments as s on s.contact_id = m.contact_id
    left join audience_kinds as k on k.audience = m.audience
)

select
    count(*) filter (where coalesce(email_opt_out, true) or coalesce(is_suppressed, true)) as consent,
    count(*) filter (
        where (kind = 'lead_source' and coalesce(is_customer, true))
           or (kind = 'upsell' and not coalesce(is_customer, false))
    ) as customer_rule,
    count(*) - count(distinct (audience, contact_id)) as duplicates
from members;
