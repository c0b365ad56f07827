-- grain: one raw.load_log row per CRM source (the latest full-snapshot load of that file).
delete from raw.load_log where source = $source;
insert into raw.load_log (source, source_file, event_date, file_size, file_mtime, rows_loaded, rows_quarantined, loaded_at)
values ($source, $source_file, null, $file_size, $file_mtime, $rows_loaded, $rows_quarantined, $loaded_at);
