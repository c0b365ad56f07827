-- grain: no rows. Stands in for an optional CRM file that is absent (e.g. crm/suppressions.csv),
-- so the entity's load SQL empties its table the same way a file would replace it.
drop table if exists crm_reject_errors;
drop view if exists crm_file;
create or replace temp view crm_file as select null::bigint as _row, null::bigint as _line where false;
create temp table crm_reject_errors as
select null::bigint as line, null::varchar as error_type, null::varchar as csv_line where false;
