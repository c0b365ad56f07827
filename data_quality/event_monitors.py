"""Two monitors of the landed web events: freshness (is the newest day recent enough?) and daily
volume (is the newest day's count far from the usual?). SQL reads the counts; the verdicts are pure
functions of those numbers and the thresholds in `config/quality.yaml`.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

import duckdb
import polars as pl

from assets.sql_files import run_sql


@dataclass(frozen=True)
class FreshnessVerdict:
    """Whether the newest landed event day is recent enough for the data date."""

    newest: dt.date | None
    as_of: dt.date
    age_days: int | None
    max_age_days: int

    @property
    def passed(self) -> bool:
        return self.age_days is not None and self.age_days <= self.max_age_days

    @property
    def message(self) -> str:
        if self.newest is None:
            return "No web events have landed at all (raw.web_events is empty); check the web/events/ folder."
        if self.passed:
            return f"Newest event day {self.newest} is {self.age_days} day(s) before the data date {self.as_of} (limit {self.max_age_days})."
        return (f"Newest event day {self.newest} is {self.age_days} days before the data date {self.as_of}; "
                f"the limit is {self.max_age_days} (config/quality.yaml freshness.max_age_days). "
                "Web event files have stopped landing: check the export job that writes web/events/YYYY-MM-DD.jsonl.")


def freshness_verdict(newest: dt.date | None, as_of: dt.date, max_age_days: int) -> FreshnessVerdict:
    """Age of the newest event day relative to the data date (negative: data from after the data date)."""
    age = None if newest is None else (as_of - newest).days
    return FreshnessVerdict(newest, as_of, age, max_age_days)


def newest_event_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The newest `event_date` in raw.web_events (None when empty)."""
    return run_sql(con, "quality/newest_event_date").fetchone()[0]


@dataclass(frozen=True)
class VolumeVerdict:
    """The newest day's event count against the median of the days before it."""

    day: dt.date | None
    n: int | None
    baseline_median: float | None
    baseline_days: int
    tolerance_percent: float
    min_baseline_days: int

    @property
    def enough_history(self) -> bool:
        return self.day is not None and self.baseline_days >= self.min_baseline_days

    @property
    def change_percent(self) -> float | None:
        if not self.enough_history or not self.baseline_median:
            return None
        return round((self.n - self.baseline_median) * 100.0 / self.baseline_median, 1)

    @property
    def anomalous(self) -> bool:
        if not self.enough_history:
            return False
        if not self.baseline_median:
            return self.n > 0
        return abs(self.change_percent) > self.tolerance_percent

    @property
    def message(self) -> str:
        if self.day is None:
            return "No web events in the window; nothing to compare."
        if not self.enough_history:
            return (f"{self.day}: {self.n:,} events; only {self.baseline_days} earlier day(s) in the window, "
                    f"{self.min_baseline_days} needed for a verdict.")
        verdict = "outside" if self.anomalous else "within"
        return (f"{self.day}: {self.n:,} events vs a median of {self.baseline_median:,.0f} over the previous "
                f"{self.baseline_days} day(s): {self.change_percent:+.1f}%, {verdict} ±{self.tolerance_percent:g}%.")


def volume_verdict(counts: pl.DataFrame, tolerance_percent: float, min_baseline_days: int) -> VolumeVerdict:
    """Pure: `counts` has one row per day (event_date, n); the newest day is compared with the
    median of the others. The data date is always present (n = 0 when nothing landed, see
    `daily_event_counts`); other days without events are absent (no data, not zero)."""
    if counts.is_empty():
        return VolumeVerdict(None, None, None, 0, tolerance_percent, min_baseline_days)
    ordered = counts.sort("event_date")
    day, n = ordered.row(-1)
    baseline = ordered["n"][:-1].to_list()
    median = statistics.median(baseline) if baseline else None
    return VolumeVerdict(day, int(n), median, len(baseline), tolerance_percent, min_baseline_days)


def daily_event_counts(con: duckdb.DuckDBPyConnection, as_of: dt.date, baseline_days: int) -> pl.DataFrame:
    """Events per day from `baseline_days` days before the data date up to it; the data date is
    always a row (n = 0 when none of its events landed), so an empty night is compared, not skipped."""
    return run_sql(con, "quality/daily_event_counts", {"as_of": as_of, "days": baseline_days}).pl()
