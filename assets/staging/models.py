"""Build the staging tables from the raw ones: which SQL model runs, in which order, with which rules.

Knows nothing of Dagster: the assets, the tests and the benchmark all call `build_model`.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from assets.sql_files import run_sql
from assets.warehouse_tables import table_exists, write_table
from assets.staging.incremental import BuildInfo, build_events, build_identity_map, build_sessions
from assets.staging.web_rules import WebRules

INCREMENTAL_MODELS = {"identity_map": build_identity_map, "events": build_events, "sessions": build_sessions}

# Dependency order: each model reads only raw tables and the staging tables before it.
STAGING_MODELS: tuple[str, ...] = (
    "suppressions",
    "contacts",
    "contact_id_map",
    "accounts",
    "opportunities",
    "subscriptions",
    "identity_map",
    "events",
    "sessions",
)

# Models whose SQL builds the temp table `<model>_built`: only its changed rows are written to the
# staging table, by these key columns (1M contacts, a few thousand of them changed on a night).
WRITTEN_BY_CHANGES: dict[str, tuple[str, ...]] = {"contacts": ("contact_id",)}


def build_model(con: duckdb.DuckDBPyConnection, table: str, rules: WebRules, as_of: dt.date) -> BuildInfo | None:
    """(Re)create `staging.<table>` from `sql/staging/<table>.sql` with the rules bound as parameters.
    identity_map, events and sessions are built incrementally when they can be
    (assets/staging/incremental.py) and say how (BuildInfo); the other models are rebuilt every night
    (contacts written by its changed rows, see WRITTEN_BY_CHANGES)."""
    if table not in STAGING_MODELS:
        raise ValueError(f"unknown staging model {table!r}; expected one of {', '.join(STAGING_MODELS)}")
    if table in INCREMENTAL_MODELS:
        return INCREMENTAL_MODELS[table](con, rules)
    name = f"staging/{table}"
    # crm/suppressions.csv is optional: without it there is no raw table, and nobody is suppressed.
    if table == "suppressions" and not table_exists(con, "raw", "suppressions"):
        name = "staging/suppressions_none"
    run_sql(con, "shared/trim_fast")
    run_sql(con, name, {**rules.sql_params(), "as_of": as_of})
    if table in WRITTEN_BY_CHANGES:
        built = table + "_built"
        write_table(con, "staging." + table, built, WRITTEN_BY_CHANGES[table])
        con.execute("drop table " + built)
    return None


def build_staging(con: duckdb.DuckDBPyConnection, rules: WebRules, as_of: dt.date) -> None:
    """Every staging table, in dependency order."""
    for table in STAGING_MODELS:
        build_model(con, table, rules, as_of)
