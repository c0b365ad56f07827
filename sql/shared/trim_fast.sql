-- grain: none. A temp macro (per connection) for the raw and staging SQL; run before the SQL that uses it.

-- trim(v), the same result, without its cost (DuckDB's trim removes Unicode spaces and is slow: ~4 s
-- per million 500-character lines, ~0.7 s per million 16-column CRM rows) when v has nothing to trim:
-- all ASCII (as many bytes as characters), where trim removes only ' ', and no ' ' at either end.
-- (Testing the end characters instead, v[1] and v[-1], cost as much as the trim for short values.)
-- Pass it a column: a macro repeats its argument in every branch, so an expression (a JSON
-- extraction) would be computed several times; use plain trim there.
create or replace temp macro trim_fast(v) as (
    case when strlen(v) = length(v) and not (starts_with(v, ' ') or ends_with(v, ' ')) then v else trim(v) end
);
