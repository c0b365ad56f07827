-- grain: none. Replaces the five CRM raw tables, their quarantine rows and their load_log rows with what
-- the load read and typed (sql/raw/crm_pending.sql, sql/raw/load_<entity>.sql). assets/raw/crm_load.py
-- runs it in one transaction: all five snapshots change together or not at all. $sources: the CRM
-- entities (every one's old quarantine rows go, a missing optional file's too); a missing optional
-- file has no load_log row, so its previous one stays.
delete from raw.accounts;
insert into raw.accounts select * from crm_rows_accounts;

delete from raw.contacts;
insert into raw.contacts select * from crm_rows_contacts;

delete from raw.opportunities;
insert into raw.opportunities select * from crm_rows_opportunities;

delete from raw.subscriptions;
insert into raw.subscriptions select * from crm_rows_subscriptions;

delete from raw.suppressions;
insert into raw.suppressions select * from crm_rows_suppressions;

delete from raw.quarantine where list_contains($sources, source);
insert into raw.quarantine (source, source_file, line, reason, raw_text, event_date, loaded_at)
select source, source_file, line, reason, raw_text, event_date, loaded_at from crm_quarantine_pending;

delete from raw.load_log where source in (select source from crm_load_log_pending);
insert into raw.load_log (source, source_file, event_date, file_size, file_mtime, rows_loaded, rows_quarantined, loaded_at)
select source, source_file, event_date, file_size, file_mtime, rows_loaded, rows_quarantined, loaded_at
from crm_load_log_pending;
