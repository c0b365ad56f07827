"""Polars frames in the warehouse: written as a table (replacing the old one in one transaction), or
registered as a view for the length of a block; whether a table exists."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import duckdb
import polars as pl

# Table names come from our code, never from config or input; still, accept only plain identifiers.
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """`frame` readable by SQL as the view `name` on `con` (through Arrow, no copy) while the block runs."""
    con.register(name, frame.to_arrow())
    try:
        yield
    finally:
        con.unregister(name)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace `schema.table` with `frame` atomically (readers see the old or the new table); returns rows."""
    if not TABLE_NAME.match(table):
        raise ValueError(f"not a plain schema.table name: {table!r}")
    schema = table.split(".")[0]
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists " + schema)
        con.execute("drop table if exists " + table)
        con.from_arrow(frame.to_arrow()).create(table)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return frame.height


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` exists in the warehouse."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
