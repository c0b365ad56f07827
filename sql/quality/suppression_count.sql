-- grain: one row: the suppressed emails tonight (staging.suppressions has one row per normalised email).
select count(*)::bigint as n
from staging.suppressions;
