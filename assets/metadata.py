"""One metadata vocabulary for every asset: Dagster's standard keys plus a few of our own.

- `dagster/row_count`, `dagster/column_schema` (standard; the UI shows them)
- `table`: the DuckDB table the asset wrote, e.g. `segments.contact_segments`
- `preview`: the first rows as Markdown, with email and phone masked
- `distribution/<column>`: counts per value as a Markdown table (bar chart in text)
"""
from __future__ import annotations

import re
from typing import Any

import duckdb
import polars as pl
from dagster import MetadataValue, TableColumn, TableSchema

SENSITIVE_COLUMN = re.compile(r"(^|_)(email|phone)($|_)", re.IGNORECASE)
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
DIGITS = re.compile(r"\d")


def mask_email(value: str | None) -> str | None:
    """`jane.doe@acme.com` -> `j***@acme.com`."""
    return None if value is None else EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str | None) -> str | None:
    """Keep the last two digits: `+1 415 555 0199` -> `+* *** *** **99`."""
    if value is None:
        return None
    digits = len(DIGITS.findall(value))
    seen = 0

    def repl(m: re.Match) -> str:
        nonlocal seen
        seen += 1
        return m.group(0) if seen > digits - 2 else "*"

    return DIGITS.sub(repl, value)


def mask_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Mask every email- or phone-looking column (by name) and any email inside other text columns."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype != pl.String:
            continue
        if SENSITIVE_COLUMN.search(name) and "phone" in name.lower():
            exprs.append(pl.col(name).map_elements(mask_phone, return_dtype=pl.String))
        else:
            exprs.append(pl.col(name).str.replace_all(EMAIL.pattern, "${1}***@${2}"))
    return df.with_columns(exprs) if exprs else df


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> TableSchema:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    return TableSchema(columns=[TableColumn(name=c, type=t) for c, t in rows])


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, preview_rows: int = 5) -> dict[str, Any]:
    """Row count, column schema and a masked preview of a warehouse table (identifier from our code)."""
    rel = con.table(table)
    count = rel.aggregate("count(*)").fetchone()[0]
    preview = mask_frame(rel.limit(preview_rows).pl())
    return {
        "dagster/row_count": MetadataValue.int(int(count)),
        "dagster/column_schema": column_schema(con, table),
        "table": MetadataValue.text(table),
        "preview": MetadataValue.md(frame_md(preview)),
    }


def frame_md(df: pl.DataFrame) -> str:
    """A small frame as a Markdown table (for previews; cells are shown as text)."""
    if df.is_empty():
        return "(empty)"
    cell = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * df.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join(lines)


def distribution_md(counts: pl.DataFrame, label: str, count: str = "n", width: int = 30) -> MetadataValue:
    """A Markdown table with a text bar per value: readable as a chart in the Dagster UI."""
    if counts.is_empty():
        return MetadataValue.md("(no rows)")
    total = counts[count].sum() or 1
    top = counts[count].max() or 1
    lines = [f"| {label} | count | share | |", "|---|---:|---:|---|"]
    for value, n in counts.select(label, count).iter_rows():
        bar = "█" * max(1, round(width * n / top)) if n else ""
        lines.append(f"| {value} | {n:,} | {100 * n / total:.1f}% | {bar} |")
    return MetadataValue.md("\n".join(lines))
