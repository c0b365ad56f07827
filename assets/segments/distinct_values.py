"""Evaluate a rule expression once per distinct combination of its input columns, not once per row.

Channel rules (source, medium, campaign) and content topics (topic, content id, page path) are chains
of string matching; a million touches or downloads hold a few hundred combinations of those columns.
"""
from __future__ import annotations

from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
_RESULT = "__per_combination"


def with_per_combination(df: Frame, keys: list[str], expr: pl.Expr, name: str) -> Frame:
    """`df` with column `name` = `expr` (an expression over `keys` only), computed on the distinct
    combinations of `keys` and joined back (NULLs match NULLs; row order kept). Equal to
    `df.with_columns(expr.alias(name))`, `name` in place when it already is a column."""
    if name in keys:
        return df.with_columns(expr.alias(name))
    combinations = df.select(keys).unique().with_columns(expr.alias(_RESULT))
    return (df.join(combinations, on=keys, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(pl.col(_RESULT).alias(name)).drop(_RESULT))
