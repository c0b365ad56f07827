-- grain: one row per account_id
-- source: raw.accounts. An account_id listed twice keeps its latest created_at (ties: the later line).
-- domain is normalised to a bare host: lowercase, no scheme, no www., no path or port.
create schema if not exists staging;

create or replace table staging.accounts as
with source as (
    select * from raw.accounts where account_id is not null
),

cleaned as (
    select
        account_id,
        nullif(trim_fast(name), '') as name,
        nullif(
            rtrim(regexp_extract(lower(trim_fast(domain)), '^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?(?:www\.)?([^/:?#\s]+)', 1), '.'),
            ''
        ) as domain,
        nullif(trim_fast(industry), '') as industry,
        nullif(trim_fast(employee_count), '') as employee_count,
        annual_revenue,
        nullif(trim_fast(country), '') as country,
        nullif(trim_fast(city), '') as city,
        nullif(trim_fast(state), '') as state,
        nullif(trim_fast(zip), '') as zip,
        created_at,
        _line
    from source
),

final as (
    select
        account_id, name, domain, industry, employee_count, annual_revenue,
        country, city, state, zip, created_at
    from cleaned
    qualify row_number() over (
        partition by account_id order by created_at desc nulls last, _line desc nulls last
    ) = 1
)

select * from final;
