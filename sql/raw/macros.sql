-- grain: none. Helper macros shared by the raw layer's typing SQL (temporary, per connection).

-- Timestamps: ISO 8601 as DuckDB reads it, starting YYYY-MM-DD; anything else is unparseable and
-- quarantines the row. Accepted, for example:
--   2024-05-01, 2024-05-01 14:03 (HubSpot UI), 2024-05-01T14:03:00[.123]        -> taken as UTC
--   ...Z (Segment), ...+0000 (Salesforce), ...+02:00, ...-05                      -> converted to UTC
-- Cheap LIKE tests first: a 1M-line event day spends most of its time here otherwise.
create or replace temp macro raw_timestamp(v) as (
    case
        when not (v like '____-__-__%') then null
        when v like '%Z' then try_cast(v as timestamp)  -- UTC already: the common case, the cheap cast
        when v like '%z' then timezone('UTC', try_cast(v as timestamptz))
        when length(v) > 10 and regexp_matches(v, '[+-]\d{2}(:?\d{2})?$') then timezone('UTC', try_cast(v as timestamptz))
        else try_cast(v as timestamp)
    end
);

-- A number; "1,234,567.5" (thousands commas) is accepted, "1,5" is not (ambiguous decimal comma).
create or replace temp macro raw_number(v) as (
    case
        when regexp_full_match(v, '[+-]?\d{1,3}(,\d{3})+(\.\d+)?') then try_cast(replace(v, ',', '') as double)
        when isfinite(try_cast(v as double)) then try_cast(v as double)
    end
);

-- A whole number ("12", "12.0", "1,200"); "12.5" is not.
create or replace temp macro raw_integer(v) as (
    case when raw_number(v) = trunc(raw_number(v)) then try_cast(raw_number(v) as integer) end
);

-- true / false from the accepted tokens (config/vendor_formats.yaml booleans), else NULL.
create or replace temp macro raw_boolean(v, true_values, false_values) as (
    case
        when list_contains(true_values, lower(v)) then true
        when list_contains(false_values, lower(v)) then false
    end
);

-- An employee count as given: a number or a range ("51-200", "10001+", "1,000-5,000", "51 to 200",
-- "250.0", "10 001", "51-200 employees"). `pattern` is assets.segments.company_size.EMPLOYEE_COUNT,
-- applied after the same clean-up (case, thousands separators), so raw accepts what segments band.
create or replace temp macro raw_is_employee_count(v, pattern) as (
    regexp_matches(
        regexp_replace(replace(lower(trim(v)), ',', ''), '(\d)[\s\x{00a0}'']+(\d)', '\1\2', 'g'),
        pattern
    )
);

-- The quarantine reason for a value that is present but did not parse, else NULL.
create or replace temp macro raw_bad_value(problem, column_name, v, parsed) as (
    case when v is not null and parsed is null
        then problem || ' in ' || column_name || ': ''' || left(v, 200) || '''' end
);

-- One CSV field as it would be written back (quoted when needed): rebuilds a row's raw text.
create or replace temp macro raw_csv_field(v) as (
    case
        when v is null then ''
        when regexp_matches(v, '[",\r\n]') then '"' || replace(v, '"', '""') || '"'
        else v
    end
);

-- Lines a read skipped (table `skipped_lines`: source_file, line; one row per line) as steps: per file
-- and stretch of skipped lines, how many lines were read before it (`read_before`) and how many were
-- skipped up to its end (`skipped`). Read row k of a file sits on line k + the `skipped` of the last
-- step with read_before < k (an ASOF join).
create or replace temp macro line_steps(skipped_lines) as table
    with numbered as (
        select source_file, line, row_number() over (partition by source_file order by line) as j
        from query_table(skipped_lines)
    )
    select source_file, line - j as read_before, max(j) as skipped from numbered group by all;
