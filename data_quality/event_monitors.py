"""Monitors of the landed data: freshness (are the newest web-event day and the newest CRM contact
update recent enough?) and daily web-event volume (is the data date's count far from the usual?).
SQL reads the numbers; the verdicts are pure functions of those numbers and the thresholds in
`config/quality.yaml`.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

import duckdb
import polars as pl

from assets.sql_files import run_sql


WEB_HINT = ("Web event files have stopped landing: check the export job that writes "
            "web/events/YYYY-MM-DD.jsonl.")
CRM_HINT = ("The CRM snapshot has stopped changing: check the job that exports crm/contacts.csv "
            "(is it still running, and exporting updated_at?).")


@dataclass(frozen=True)
class FreshnessVerdict:
    """Whether the newest landed day of one source is recent enough for the reference date (the
    data date, or today's UTC date for an undated run; see assets/data_date.py)."""

    newest: dt.date | None
    as_of: dt.date
    age_days: int | None
    max_age_days: int
    source: str = "web events"
    reference: str = "data date"
    config_key: str = "freshness.max_age_days"
    hint: str = WEB_HINT
    required: bool = True    # False: a source without dates is "unknown", not stale

    @property
    def passed(self) -> bool:
        if self.age_days is None:
            return not self.required
        return self.age_days <= self.max_age_days

    @property
    def _before(self) -> str:
        """"the data date 2026-11-20" or "today (UTC) 2026-12-02"."""
        article = "the " if self.reference == "data date" else ""
        return f"{article}{self.reference} {self.as_of}"

    @property
    def message(self) -> str:
        if self.newest is None and self.required:
            return "No web events have landed at all (raw.web_events is empty); check the web/events/ folder."
        if self.newest is None:
            return f"No {self.source} date to measure (nothing landed, or no updated_at): freshness unknown."
        if self.passed:
            return (f"Newest {self.source} day {self.newest} is {self.age_days} day(s) before {self._before} "
                    f"(limit {self.max_age_days}).")
        return (f"Newest {self.source} day {self.newest} is {self.age_days} days before {self._before}; the limit "
                f"is {self.max_age_days} (config/quality.yaml {self.config_key}). {self.hint}")


def freshness_verdict(newest: dt.date | None, as_of: dt.date, max_age_days: int,
                      reference: str = "data date") -> FreshnessVerdict:
    """Age of the newest web-event day relative to `as_of` (negative: data from after it)."""
    age = None if newest is None else (as_of - newest).days
    return FreshnessVerdict(newest, as_of, age, max_age_days, reference=reference)


def crm_freshness_verdict(newest: dt.date | None, as_of: dt.date, max_age_days: int,
                          reference: str = "data date") -> FreshnessVerdict:
    """Age of the newest CRM contact update relative to `as_of`. No date (a CRM export without
    updated_at) is reported as unknown rather than blocking: it says nothing about staleness."""
    age = None if newest is None else (as_of - newest).days
    return FreshnessVerdict(newest, as_of, age, max_age_days, source="CRM contact update", reference=reference,
                            config_key="freshness.crm_max_age_days", hint=CRM_HINT, required=False)


def newest_event_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The newest `event_date` in raw.web_events (None when empty)."""
    return run_sql(con, "quality/newest_event_date").fetchone()[0]


@dataclass(frozen=True)
class CrmFreshness:
    """The CRM signals: the newest contact `updated_at` (what the check holds to its limit) and the
    newest CRM file modification time (shown; a copied file gets a new mtime, so it only informs)."""

    newest_update: dt.datetime | None
    newest_file_mtime: dt.datetime | None


def crm_freshness(con: duckdb.DuckDBPyConnection) -> CrmFreshness:
    """Read the CRM signals; both None before the raw CRM tables exist."""
    from assets.warehouse_tables import table_exists

    if not (table_exists(con, "raw", "contacts") and table_exists(con, "raw", "load_log")):
        return CrmFreshness(None, None)
    return CrmFreshness(*run_sql(con, "quality/newest_crm_update").fetchone())


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
