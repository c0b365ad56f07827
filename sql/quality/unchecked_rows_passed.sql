-- grain: none. A table's suite passed over its rebuilt rows (build_state.unchecked_rows): nothing of it
-- is left unchecked.
delete from build_state.unchecked_rows where table_name = $table_name;
