"""Segment-size drift: how many rows each segment value holds now versus after the last successful run.

Sizes are kept in `quality.segment_size_history` (run_id, data_date, table_name, dimension, value, n,
recorded_at), one set per night. The baseline is the newest earlier night whose recording run passed
its blocking checks (`quality.passed_nights`, see data_quality/passed_nights.py): a corrupt night that
was blocked is recorded (it shows in its own check) but never becomes the next night's baseline.
A segment counts as drifted when its size changed by more than the configured percentage; segments
below the minimum size both now and before are ignored (small groups swing by chance). A segment that
appears or disappears counts when the larger side reaches the minimum size.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl
from duckdb import ColumnExpression

from assets.sql_files import run_sql
from assets.warehouse_tables import registered
from data_quality.passed_nights import ensure_passed_nights_table

NULL_LABEL = "(null)"
SIZE_SCHEMA = {"dimension": pl.String, "value": pl.String, "n": pl.Int64}


def segment_sizes(con: duckdb.DuckDBPyConnection, table: str, dimensions: list[str]) -> pl.DataFrame:
    """Rows per value of each dimension column: (dimension, value, n); values as text, null as `(null)`.
    Identifiers come from a validated suite and must be columns of the table."""
    missing = sorted(set(dimensions) - set(con.table(table).columns))
    if missing:
        raise ValueError(f"{table} has no column(s) {', '.join(missing)} (named under drift_dimensions "
                         f"in data_quality/suites/{table}.yaml); fix the suite or the table")
    frame = con.table(table).select(*[ColumnExpression(d) for d in dimensions]).pl()
    parts = [
        frame.group_by(pl.col(d).cast(pl.String).fill_null(NULL_LABEL).alias("value"))
        .len(name="n")
        .select(pl.lit(d).alias("dimension"), "value", pl.col("n").cast(pl.Int64))
        for d in dimensions
    ]
    if not parts:
        return pl.DataFrame(schema=SIZE_SCHEMA)
    return pl.concat(parts).sort("dimension", "value")


def compare_sizes(current: pl.DataFrame, previous: pl.DataFrame, max_change_percent: float,
                  min_size: int) -> pl.DataFrame:
    """Every (dimension, value) of either run with previous_n, n, change_percent (null for a new
    segment) and `drifted`. Pure: frames in, frame out."""
    joined = (
        current.select("dimension", "value", "n")
        .join(previous.select("dimension", "value", pl.col("n").alias("previous_n")),
              on=["dimension", "value"], how="full", coalesce=True)
        .with_columns(pl.col("n").fill_null(0), pl.col("previous_n").fill_null(0))
    )
    change = pl.when(pl.col("previous_n") > 0).then(
        (pl.col("n") - pl.col("previous_n")) * 100.0 / pl.col("previous_n"))
    large_enough = pl.max_horizontal("n", "previous_n") >= min_size
    return (
        joined.with_columns(change.round(1).alias("change_percent"))
        .with_columns(
            (large_enough & (pl.col("change_percent").abs().fill_null(float("inf")) > max_change_percent))
            .alias("drifted"))
        .select("dimension", "value", "previous_n", "n", "change_percent", "drifted")
        .sort("dimension", "value")
    )


@dataclass(frozen=True)
class DriftOutcome:
    """What the drift check reports."""

    table: str
    comparison: pl.DataFrame          # compare_sizes(...) output; empty without an earlier successful night
    previous_run_id: str | None
    previous_data_date: dt.date | None

    @property
    def drifted(self) -> pl.DataFrame:
        return self.comparison.filter(pl.col("drifted"))

    @property
    def has_baseline(self) -> bool:
        return self.previous_run_id is not None


def ensure_history_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `quality.segment_size_history` (and the passed-nights table baselines join) when missing."""
    run_sql(con, "quality/create_segment_size_history")
    ensure_passed_nights_table(con)


def record_and_compare(con: duckdb.DuckDBPyConnection, table: str, dimensions: list[str], run_id: str,
                       data_date: dt.date, max_change_percent: float, min_size: int,
                       recorded_at: dt.datetime | None = None) -> DriftOutcome:
    """Measure the table's segment sizes, compare them with the last successful run (the newest earlier
    night whose recording run passed its blocking checks), then record them for this night (a re-run
    of the night, or a retry after a crash, replaces that night's rows)."""
    ensure_history_table(con)
    current = segment_sizes(con, table, dimensions)
    previous = run_sql(con, "quality/previous_segment_sizes", {"table_name": table, "data_date": data_date}).pl()
    # recorded_at only orders runs in the history; no result depends on it.
    stamp = recorded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with registered(con, "current_segment_sizes", current):
        run_sql(con, "quality/record_segment_sizes", {"run_id": run_id, "table_name": table,
                                                      "data_date": data_date, "recorded_at": stamp})
    if previous.is_empty():
        return DriftOutcome(table, compare_sizes(current, current.clear(), max_change_percent, min_size).clear(),
                            None, None)
    # Only the dimensions followed today: one dropped from the suite is not "a segment that vanished".
    baseline = previous.filter(pl.col("dimension").is_in(dimensions)).select("dimension", "value", "n")
    comparison = compare_sizes(current, baseline, max_change_percent, min_size)
    return DriftOutcome(table, comparison, previous["run_id"][0], previous["data_date"][0])
