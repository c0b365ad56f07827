-- grain: one quarantine row (crm_quarantine_pending, sql/raw/crm_pending.sql) per row of the CRM file
-- being loaded that typing rejected (crm_typed rows with _problems, from sql/raw/load_<entity>.sql),
-- with its text as read: the view crm_row_text, built for those rows alone (assets/raw/crm_load.py;
-- rebuilding the text of every row for the few kept cost 0.7 s per million rows).
insert into crm_quarantine_pending (source, source_file, line, reason, raw_text, event_date, loaded_at)
select $source, $source_file, t._line, t._problems, r.raw_text, null, $loaded_at
from crm_typed as t
left join crm_row_text as r using (_row)
where t._problems <> ''
order by t._line;
