"""The night a run processes (`as_of`). Nothing downstream reads the wall clock, so a re-run of the
same night over the same data gives the same result.

Resolution order: the run's `data_date` tag (the nightly schedule sets it) -> the `DATA_DATE`
environment variable -> the newest landed web-event day in `raw.web_events` -> today's UTC date.

The freshness check is the one exception to "no wall clock": it asks whether the landed data is
recent, so without an explicit data date (tag or DATA_DATE) it measures against today's UTC date
(`freshness_reference_date`); falling back to the newest landed day would make the age always 0.
"""
from __future__ import annotations

import datetime as dt
import os

import duckdb

DATA_DATE_TAG = "data_date"


def parse_data_date(value: str, origin: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{origin}: {value!r} is not a date; use YYYY-MM-DD") from exc


def explicit_data_date(run_tags: dict[str, str] | None = None) -> dt.date | None:
    """The data date someone asked for: the run's tag, else the DATA_DATE variable; None when neither."""
    if run_tags and run_tags.get(DATA_DATE_TAG):
        return parse_data_date(run_tags[DATA_DATE_TAG], f"run tag {DATA_DATE_TAG}")
    if os.environ.get("DATA_DATE", "").strip():
        return parse_data_date(os.environ["DATA_DATE"], "environment variable DATA_DATE")
    return None


def utc_today() -> dt.date:
    """Today's date in UTC: the wall clock, read only by the freshness check of an undated run and as
    the data date of last resort (nothing landed yet)."""
    return dt.datetime.now(dt.timezone.utc).date()


def freshness_reference_date(run_tags: dict[str, str] | None = None,
                             today: dt.date | None = None) -> tuple[dt.date, str]:
    """The date landed data must be recent relative to, and what it is: the explicit data date
    ("data date"), else today's UTC date ("today (UTC)") for a run nobody dated (`make run`, sensor)."""
    explicit = explicit_data_date(run_tags)
    if explicit is not None:
        return explicit, "data date"
    return (today or utc_today()), "today (UTC)"


def resolve_data_date(con: duckdb.DuckDBPyConnection, run_tags: dict[str, str] | None = None) -> dt.date:
    """The data date for this run (see the module docstring for the order)."""
    explicit = explicit_data_date(run_tags)
    if explicit is not None:
        return explicit
    has_events = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'web_events'"
    ).fetchone()[0]
    if has_events:
        newest = con.execute("select max(event_date) from raw.web_events").fetchone()[0]
        if newest is not None:
            return newest
    return utc_today()
