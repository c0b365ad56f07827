-- grain: one load_log row (crm_load_log_pending, sql/raw/crm_pending.sql) per CRM source: the latest
-- full-snapshot load of that file.
insert into crm_load_log_pending (source, source_file, event_date, file_size, file_mtime, rows_loaded, rows_quarantined, loaded_at)
values ($source, $source_file, null, $file_size, $file_mtime, $rows_loaded, $rows_quarantined, $loaded_at);
