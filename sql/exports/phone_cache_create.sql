-- grain: one row per (cleaned phone, ISO-2 country) ever parsed, with its E.164 form (NULL: not a
-- valid number) and the parser (library and version) that decided it. A cache: the nightly audience
-- and export steps parse only numbers not in it for the current parser (assets/exports/phone_cache.py).
create schema if not exists build_state;

create table if not exists build_state.phone_numbers (
    phone varchar, country varchar, e164 varchar, parser varchar
);
