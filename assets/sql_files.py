"""Run the SQL files in `sql/`: one purpose per file, parameters bound (`$name`), never formatted in.

A file may hold several statements (e.g. a temp table, then the model); each statement gets exactly
the named parameters it uses. The result of the last statement is returned.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import duckdb

from workflows.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"


@lru_cache(maxsize=None)
def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql`, e.g. `sql_text("staging/contacts")`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: {path}")
    return path.read_text(encoding="utf-8")


def run_sql(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute every statement of `sql/<name>.sql` with its named parameters bound."""
    params = params or {}
    statements = con.extract_statements(sql_text(name))
    if not statements:
        raise ValueError(f"sql/{name}.sql holds no statement")
    for statement in statements:
        missing = statement.named_parameters - params.keys()
        if missing:
            raise KeyError(f"sql/{name}.sql needs parameter(s) {sorted(missing)}")
        bound = {k: params[k] for k in statement.named_parameters}
        result = con.execute(statement, bound) if bound else con.execute(statement)
    return result
