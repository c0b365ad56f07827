-- grain: none. Where the CRM load (assets/raw/crm_load.py) puts what it read and typed before anything
-- changes: every file is read and typed into temp tables first, outside a transaction (DuckDB scans a
-- table filled inside the open transaction on one thread: typing and copying 1M contacts took twice as
-- long), then sql/raw/replace_crm_tables.sql replaces the raw tables from them in one transaction.
-- The typed rows are crm_rows_<entity> (sql/raw/load_<entity>.sql); these two hold the quarantine and
-- load_log rows, with raw.quarantine's and raw.load_log's columns.
create or replace temp table crm_quarantine_pending (
    source varchar, source_file varchar, line bigint, reason varchar, raw_text varchar,
    event_date date, loaded_at timestamp
);

create or replace temp table crm_load_log_pending (
    source varchar, source_file varchar, event_date date, file_size bigint, file_mtime timestamp,
    rows_loaded bigint, rows_quarantined bigint, loaded_at timestamp
);
