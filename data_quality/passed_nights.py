"""Which nights passed their blocking checks: the baselines of the night-over-night checks.

`quality.passed_nights` holds one row per data date: the run that last got that night through every
blocking check. The export assets mark it (they only run when every blocking check upstream of them
passed). Segment-size drift and the suppression-count check compare tonight with the newest earlier
night recorded by such a run, so a corrupt night that was blocked never becomes the next baseline.

Marked by run id, not by the order of steps: a warning check that runs after the exports in the same
run still counts, because baselines are looked up by joining on (data_date, run_id).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from assets.sql_files import run_sql


def ensure_passed_nights_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `quality.passed_nights` when missing."""
    run_sql(con, "quality/create_passed_nights")


def mark_night_passed(con: duckdb.DuckDBPyConnection, data_date: dt.date, run_id: str,
                      recorded_at: dt.datetime | None = None) -> None:
    """Record that `run_id` got `data_date` through its blocking checks (replaces the night's row)."""
    ensure_passed_nights_table(con)
    # recorded_at is for audits only; nothing compares it.
    stamp = recorded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    run_sql(con, "quality/mark_night_passed", {"data_date": data_date, "run_id": run_id, "recorded_at": stamp})
