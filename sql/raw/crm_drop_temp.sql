-- grain: none. Drops every temp table and view the CRM load (assets/raw/crm_load.py) made on the
-- connection, when it ends, loaded or not.
drop view if exists crm_mapped;
drop view if exists crm_row_text;
drop view if exists crm_file;
drop view if exists crm_numbered;
drop table if exists crm_typed;
drop table if exists crm_parsed;
drop table if exists crm_steps;
drop table if exists crm_skipped;
drop table if exists crm_reject_errors;
drop table if exists crm_reject_scans;
drop table if exists crm_quarantine_pending;
drop table if exists crm_load_log_pending;
drop table if exists crm_rows_accounts;
drop table if exists crm_rows_contacts;
drop table if exists crm_rows_opportunities;
drop table if exists crm_rows_subscriptions;
drop table if exists crm_rows_suppressions;
