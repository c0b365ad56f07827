-- grain: audiences.memberships = one row per (audience, contact_id) ever published;
--        audiences.publish_log = one row per publish attempt per (audience, destination) and night
-- Created once; the export assets add rows (see upsert_memberships.sql, log_publishes.sql).
create schema if not exists audiences;

create table if not exists audiences.memberships (
    audience varchar not null,
    contact_id varchar not null,
    "group" varchar not null,            -- treatment | holdout, as of the latest publish
    first_published_at timestamp not null, -- the data date of the first publish; never changes
    last_published_at timestamp not null   -- the data date of the latest publish the member was in
);

create table if not exists audiences.publish_log (
    run_id varchar not null,
    data_date date not null,
    published_at timestamp not null,     -- the data date (deterministic: a re-run gives the same value)
    logged_at timestamp not null,        -- wall clock (UTC) when the row was written, for audits only
    audience varchar not null,
    destination varchar not null,
    status varchar not null,             -- published | unchanged | skipped | failed
    reason varchar,
    publish_id varchar,                  -- <data_date>-<nn>-<sha8>; the folder under EXPORT_DIR
    "rows" bigint not null,              -- rows in the destination file
    adds bigint not null,
    removes bigint not null,
    audience_size bigint not null,       -- members of the audience this run (treatment + holdout)
    treatment_size bigint not null,
    holdout_size bigint not null,
    sha256s json,                        -- file name -> sha256 hex
    path varchar
);
