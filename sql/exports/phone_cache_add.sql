-- grain: adds one cache row per pair of the registered relation `phone_parsed` (_phone, _cc, _e164),
-- pairs the cache did not hold for $parser (sql/exports/phone_cache_lookup.sql).
insert into build_state.phone_numbers (phone, country, e164, parser)
select _phone, _cc, _e164, $parser from phone_parsed;
