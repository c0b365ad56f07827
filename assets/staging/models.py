"""Build the staging tables from the raw ones: which SQL model runs, in which order, with which rules.

Knows nothing of Dagster: the assets, the tests and the benchmark all call `build_model`.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from assets.sql_files import run_sql
from assets.staging.web_rules import WebRules

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


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` exists in the warehouse."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def build_model(con: duckdb.DuckDBPyConnection, table: str, rules: WebRules, as_of: dt.date) -> None:
    """(Re)create `staging.<table>` from `sql/staging/<table>.sql` with the rules bound as parameters."""
    if table not in STAGING_MODELS:
        raise ValueError(f"unknown staging model {table!r}; expected one of {', '.join(STAGING_MODELS)}")
    name = f"staging/{table}"
    # crm/suppressions.csv is optional: without it there is no raw table, and nobody is suppressed.
    if table == "suppressions" and not table_exists(con, "raw", "suppressions"):
        name = "staging/suppressions_none"
    run_sql(con, name, {**rules.sql_params(), "as_of": as_of})


def build_staging(con: duckdb.DuckDBPyConnection, rules: WebRules, as_of: dt.date) -> None:
    """Every staging table, in dependency order."""
    for table in STAGING_MODELS:
        build_model(con, table, rules, as_of)
