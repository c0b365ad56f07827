-- grain: one row per snapshot date ($snapshots): a digest of the web event day files loaded up to
-- and including it (raw.load_log: day, size, modification time). A backfill or a corrected day file
-- changes the digest of that day's snapshot and of every later one, so their cached features are
-- recomputed; a new night's file changes none of them.
select
    s.as_of,
    md5(coalesce(string_agg(
        l.event_date::varchar || ':' || l.file_size::varchar || ':' || l.file_mtime::varchar, ',' order by l.event_date
    ), '')) as digest
from unnest($snapshots::date[]) as s(as_of)
left join raw.load_log as l
    on l.source = 'web_events'
   and l.event_date <= s.as_of
group by s.as_of
