-- grain: one row: the newest contact update in raw.contacts and the newest CRM file modification time
-- in raw.load_log (CRM rows are the ones without an event_date).
select
    (select max(updated_at) from raw.contacts) as newest_contact_update,
    (select max(file_mtime) from raw.load_log where event_date is null) as newest_crm_file_mtime;
