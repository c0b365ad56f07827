-- grain: one row per person (CRM contacts with the same valid email merged into one)
-- source: raw.contacts, staging.suppressions
--
-- Survivorship rule (duplicates = records with the same email_normalized, valid emails only):
--   * survivor = the most recently updated record (ties: earliest created_at, then smallest contact_id);
--     its contact_id is the person's contact_id.
--   * every other field = the survivor's value; when that is empty, the most recently updated non-empty
--     value among the duplicates (same order as above).
--   * email_opt_out = true if ANY merged record opted out (an opt-out is never lost in a merge).
--   * created_at = the earliest, updated_at = the latest of the merged records.
--   * merged_contact_ids = every merged contact_id, sorted; duplicate_count = records merged away
--     (0 = the person had one record).
--   * a contact with an invalid or missing email is never merged: it is a person of its own.
--   * the same contact_id twice in the file (a broken export): its most recently updated row is used.
--   * rows without a contact_id cannot be referenced by anything and are left out.
-- Parameters: $email_regex (the whole address must match), $personal_domains (free mailbox providers).
-- Built into the temp table contacts_built; assets/staging/models.py writes what changed to staging.contacts.
create or replace temp table contacts_built as
with source as (
    select * from raw.contacts where contact_id is not null
),

-- A contact_id on several rows (a broken export) is rare: only those rows go through the window.
repeated_ids as (
    select contact_id from source group by contact_id having count(*) > 1
),

latest_rows as (
    select * from source anti join repeated_ids using (contact_id)
    union all
    select * from source semi join repeated_ids using (contact_id)
    qualify row_number() over (
        partition by contact_id order by updated_at desc nulls last, _line desc nulls last
    ) = 1
),

cleaned as (
    select
        contact_id,
        nullif(trim_fast(account_id), '') as account_id,
        nullif(trim_fast(email), '') as email,
        nullif(lower(trim_fast(email)), '') as email_normalized,
        nullif(trim_fast(first_name), '') as first_name,
        nullif(trim_fast(last_name), '') as last_name,
        nullif(trim_fast(job_title), '') as job_title,
        nullif(trim_fast(phone), '') as phone,
        nullif(trim_fast(city), '') as city,
        nullif(trim_fast(state), '') as state,
        nullif(trim_fast(zip), '') as zip,
        nullif(trim_fast(country), '') as country,
        nullif(trim_fast(lead_source), '') as lead_source,
        nullif(trim_fast(lifecycle_stage), '') as lifecycle_stage,
        coalesce(email_opt_out, false) as email_opt_out,
        created_at,
        updated_at
    from latest_rows
),

validated as (
    select
        *,
        coalesce(regexp_full_match(email_normalized, $email_regex), false) as email_valid,
        nullif(regexp_extract(email_normalized, '@([^@]+)$', 1), '') as email_domain
    from cleaned
),

keyed as materialized (
    select
        *,
        -- the merge key: invalid or missing emails never match anyone else
        case when email_valid then 'email:' || email_normalized else 'id:' || contact_id end as person_key
    from validated
),

-- People with several records; everyone else is their one record as it is (the merge of one row).
shared_keys as (
    select person_key from keyed group by person_key having count(*) > 1
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_key
            order by updated_at desc nulls last, created_at asc nulls last, contact_id asc
        ) as survivor_rank
    from keyed semi join shared_keys using (person_key)
),

merged as (
    -- arg_min(x, survivor_rank) skips NULLs: the survivor's value, else the next record's non-empty one
    select
        arg_min(contact_id, survivor_rank) as contact_id,
        arg_min(account_id, survivor_rank) as account_id,
        arg_min(email, survivor_rank) as email,
        arg_min(email_normalized, survivor_rank) as email_normalized,
        bool_or(email_valid) as email_valid,
        arg_min(email_domain, survivor_rank) as email_domain,
        arg_min(first_name, survivor_rank) as first_name,
        arg_min(last_name, survivor_rank) as last_name,
        arg_min(job_title, survivor_rank) as job_title,
        arg_min(phone, survivor_rank) as phone,
        arg_min(city, survivor_rank) as city,
        arg_min(state, survivor_rank) as state,
        arg_min(zip, survivor_rank) as zip,
        arg_min(country, survivor_rank) as country,
        arg_min(lead_source, survivor_rank) as lead_source,
        arg_min(lifecycle_stage, survivor_rank) as lifecycle_stage,
        bool_or(email_opt_out) as email_opt_out,
        min(created_at) as created_at,
        max(updated_at) as updated_at,
        list_sort(list(contact_id)) as merged_contact_ids,
        (count(*) - 1)::integer as duplicate_count
    from ranked
    group by person_key

    union all

    select
        contact_id, account_id, email, email_normalized, email_valid, email_domain, first_name, last_name,
        job_title, phone, city, state, zip, country, lead_source, lifecycle_stage, email_opt_out,
        created_at, updated_at,
        [contact_id] as merged_contact_ids,
        0 as duplicate_count
    from keyed anti join shared_keys using (person_key)
),

final as (
    select
        merged.contact_id,
        merged.account_id,
        merged.email,
        merged.email_normalized,
        merged.email_valid,
        merged.email_domain,
        coalesce(list_contains($personal_domains, merged.email_domain), false) as is_personal_email,
        merged.first_name,
        merged.last_name,
        merged.job_title,
        merged.phone,
        merged.city,
        merged.state,
        merged.zip,
        merged.country,
        merged.lead_source,
        merged.lifecycle_stage,
        merged.email_opt_out,
        suppressions.email_normalized is not null as is_suppressed,
        merged.created_at,
        merged.updated_at,
        merged.merged_contact_ids,
        merged.duplicate_count
    from merged
    left join staging.suppressions as suppressions
        on suppressions.email_normalized = merged.email_normalized
)

select * from final;
