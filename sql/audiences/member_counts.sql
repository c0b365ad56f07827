-- grain: one row per group (treatment, holdout) of one audience ($audience) in audiences.members
select "group", count(*) as members
from audiences.members
where audience = $audience
group by "group"
order by "group";
