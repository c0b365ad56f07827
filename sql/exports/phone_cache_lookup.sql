-- grain: one row per pair of the registered relation `phone_pairs` (_phone, _cc): its cached E.164
-- (`_e164`) and whether the current parser ($parser) has decided it (`_known`).
select
    pairs._phone,
    pairs._cc,
    cached.e164 as _e164,
    cached.phone is not null as _known
from phone_pairs as pairs
left join (
    -- one row per pair even if a cache row was ever written twice; only tonight's pairs are grouped
    -- (a small audience's few thousand, not the whole cache)
    select phone, country, any_value(e164) as e164
    from build_state.phone_numbers as cache
    semi join phone_pairs on phone_pairs._phone = cache.phone and phone_pairs._cc is not distinct from cache.country
    where parser = $parser
    group by phone, country
) as cached
    on cached.phone = pairs._phone
   and cached.country is not distinct from pairs._cc;
