"""The rows a `limit_to_rebuilt` suite still has to check: build_state.unchecked_rows.

An incremental build queues the values of the suite's column whose rows it rebuilt (the sessions
build: the visitor keys whose sessions it replaced; sql/staging/sessions_apply.sql) and a full build
queues the whole table (one NULL key; sessions_replace.sql). The expectation check validates the
queued rows and, only when the suite passes, empties the table's queue: rows a failed night rebuilt
are checked again, with whatever the next night adds, until a night passes.

Without the queue table (no incremental build ever ran, or build_state was dropped) the whole table
is checked. An empty queue means nothing was rebuilt since the last pass: no row to check.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
from duckdb import ColumnExpression, ConstantExpression

from assets.sql_files import run_sql
from assets.warehouse_tables import table_exists

QUEUE = ("build_state", "unchecked_rows")
QUEUED_KEY = "__rebuilt_key"


@dataclass(frozen=True)
class Unchecked:
    """What is left to check of one table: all of it, or the rows of `keys` queued values."""

    whole_table: bool
    keys: int = 0

    def describe(self, column: str) -> str:
        if self.whole_table:
            return "every row (the table was rebuilt in full since its suite last passed)"
        return f"the rows of {self.keys:,} {column} value(s) rebuilt since the suite last passed"


def _queued(con: duckdb.DuckDBPyConnection, table: str) -> duckdb.DuckDBPyRelation:
    return con.table(".".join(QUEUE)).filter(ColumnExpression("table_name") == ConstantExpression(table))


def unchecked(con: duckdb.DuckDBPyConnection, table: str) -> Unchecked:
    """How much of `table` its suite has to check tonight."""
    if not table_exists(con, *QUEUE):
        return Unchecked(whole_table=True)
    whole, keys = _queued(con, table).aggregate(
        "count(*) filter (where key is null) > 0, count(distinct key)").fetchone()
    return Unchecked(whole_table=bool(whole), keys=int(keys))


def queued_keys(con: duckdb.DuckDBPyConnection, table: str) -> duckdb.DuckDBPyRelation:
    """The queued values of `table` as one column `__rebuilt_key` (distinct, no NULL)."""
    return (_queued(con, table).filter(ColumnExpression("key").isnotnull())
            .select(ColumnExpression("key").alias(QUEUED_KEY)).distinct())


def mark_checked(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The suite passed: nothing of `table` is left to check (call right after the validation, on the
    same warehouse: no build runs between them in a job, DuckDB has one writer)."""
    if table_exists(con, *QUEUE):
        run_sql(con, "quality/unchecked_rows_passed", {"table_name": table})
