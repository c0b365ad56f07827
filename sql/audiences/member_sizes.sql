-- grain: one row per audience in audiences.members: treatment and holdout member counts
select
    audience,
    count(*) filter (where "group" = 'treatment') as treatment,
    count(*) filter (where "group" = 'holdout') as holdout
from audiences.members
group by audience
order by audience;
