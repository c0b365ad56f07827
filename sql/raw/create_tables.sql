-- grain: the raw layer's tables (docs/tables.md "raw"); one row per landed data row, typed.
-- Created if missing; loads replace rows, never the tables, so their columns stay the contract's.
create schema if not exists raw;

create table if not exists raw.accounts (
    account_id varchar, name varchar, domain varchar, industry varchar, employee_count varchar,
    annual_revenue double, country varchar, city varchar, state varchar, zip varchar,
    created_at timestamp,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.contacts (
    contact_id varchar, account_id varchar, email varchar, first_name varchar, last_name varchar,
    job_title varchar, phone varchar, city varchar, state varchar, zip varchar, country varchar,
    lead_source varchar, lifecycle_stage varchar, email_opt_out boolean,
    created_at timestamp, updated_at timestamp,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.opportunities (
    opportunity_id varchar, account_id varchar, contact_id varchar, type varchar, stage varchar,
    amount double, created_at timestamp, closed_at timestamp, is_won boolean,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.subscriptions (
    subscription_id varchar, account_id varchar, plan varchar, seats_purchased integer,
    seats_active integer, mrr double, started_at timestamp, ends_at timestamp, status varchar,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.suppressions (
    email varchar, reason varchar, added_at timestamp,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.web_events (
    event_date date, message_id varchar, type varchar, event varchar, anonymous_id varchar,
    user_id varchar, ts timestamp, page_url varchar, page_path varchar, page_referrer varchar,
    page_title varchar, campaign_source varchar, campaign_medium varchar, campaign_name varchar,
    campaign_term varchar, campaign_content varchar, user_agent varchar, traits_email varchar,
    properties json,
    _source_file varchar, _line bigint, _format varchar, _extra json, _loaded_at timestamp
);

create table if not exists raw.quarantine (
    source varchar, source_file varchar, line bigint, reason varchar, raw_text varchar,
    event_date date, loaded_at timestamp
);

create table if not exists raw.load_log (
    source varchar, source_file varchar, event_date date, file_size bigint, file_mtime timestamp,
    rows_loaded bigint, rows_quarantined bigint, loaded_at timestamp
);
