-- grain: one row per treatment member of one audience ($audience), with the contact and account
-- fields the destinations render (assets/exports/destinations.py MEMBER_COLUMNS), all text
-- source: audiences.members, staging.contacts, staging.accounts
-- Consent is checked again here (cheap): staging may have been rebuilt since audiences.members was.
-- An email staging marked invalid is left out, so only valid addresses are ever normalised and hashed.
with members as (
    select contact_id, account_id from audiences.members
    where audience = $audience and "group" = 'treatment'
),

final as (
    select
        m.contact_id::varchar as contact_id,
        case when c.email_valid then c.email end::varchar as email,
        c.phone::varchar as phone,
        c.first_name::varchar as first_name,
        c.last_name::varchar as last_name,
        c.job_title::varchar as job_title,
        c.city::varchar as city,
        c.state::varchar as state,
        c.zip::varchar as zip,
        c.country::varchar as country,
        m.account_id::varchar as account_id,
        a.name::varchar as account_name,
        a.domain::varchar as account_domain,
        a.industry::varchar as industry,
        a.city::varchar as account_city,
        a.state::varchar as account_state,
        a.country::varchar as account_country,
        a.zip::varchar as account_zip
    from members as m
    inner join staging.contacts as c on c.contact_id = m.contact_id
    left join staging.accounts as a on a.account_id = m.account_id
    where not coalesce(c.email_opt_out, true)
      and not coalesce(c.is_suppressed, true)
)

select * from final
order by contact_id;
