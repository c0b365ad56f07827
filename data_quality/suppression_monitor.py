"""The suppression list must not silently shrink or vanish.

crm/suppressions.csv is optional, so a missing or emptied file loads fine and un-suppresses everyone:
the audiences would export people who asked never to be contacted. Each night the count of
staging.suppressions (and whether the file was there) is recorded in `quality.suppression_history`,
and compared with the last successful run (the newest earlier night that passed its blocking checks,
data_quality/passed_nights.py). The verdict is a pure function of those numbers and the share in
`config/quality.yaml` (suppressions.min_share_of_previous_percent).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from assets.sql_files import run_sql
from data_quality.passed_nights import ensure_passed_nights_table

SUPPRESSIONS_FILE = "crm/suppressions.csv"
SHARE_KEY = "suppressions.min_share_of_previous_percent"


@dataclass(frozen=True)
class SuppressionVerdict:
    """Tonight's suppression count against the last successful run's."""

    n: int
    file_present: bool
    previous_n: int | None
    previous_date: dt.date | None
    min_share_percent: float

    @property
    def minimum(self) -> float:
        """The fewest suppressed emails tonight may hold (0 without a baseline)."""
        return (self.previous_n or 0) * self.min_share_percent / 100

    @property
    def passed(self) -> bool:
        return self.previous_n is None or self.n >= self.minimum

    @property
    def message(self) -> str:
        if self.previous_n is None:
            return (f"{self.n:,} suppressed email(s); no earlier successful night to compare with "
                    "(tonight's count becomes the baseline once the night passes).")
        if not self.file_present and not self.passed:
            return (f"{SUPPRESSIONS_FILE} is missing tonight, but {self.previous_n:,} suppressed emails were loaded "
                    f"on {self.previous_date} (the last successful run): without it nobody would be suppressed and "
                    "people who asked never to be contacted would be exported. Put the CRM's suppression export "
                    f"back in the landing folder. If the list was retired on purpose, set {SHARE_KEY} to 0 in "
                    "config/quality.yaml for one night.")
        if not self.passed:
            share = self.n * 100 / self.previous_n
            return (f"Only {self.n:,} suppressed emails tonight ({share:.0f}% of the {self.previous_n:,} on "
                    f"{self.previous_date}, the last successful run); at least {self.min_share_percent:g}% "
                    f"({self.minimum:,.0f}) are required ({SHARE_KEY}, config/quality.yaml). "
                    f"{SUPPRESSIONS_FILE} was probably truncated or exported from the wrong list.")
        return (f"{self.n:,} suppressed emails tonight vs {self.previous_n:,} on {self.previous_date} "
                f"(at least {self.min_share_percent:g}% required).")


def suppression_verdict(n: int, file_present: bool, previous: tuple[dt.date, int] | None,
                        min_share_percent: float) -> SuppressionVerdict:
    """Pure: tonight's count and file presence against the baseline (date, count), if any."""
    previous_date, previous_n = previous if previous else (None, None)
    return SuppressionVerdict(n, file_present, previous_n, previous_date, min_share_percent)


def ensure_history_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `quality.suppression_history` (and the passed-nights table it joins) when missing."""
    run_sql(con, "quality/create_suppression_history")
    ensure_passed_nights_table(con)


def previous_count(con: duckdb.DuckDBPyConnection, data_date: dt.date) -> tuple[dt.date, int] | None:
    """(data date, count) of the last successful run before `data_date`, or None."""
    row = run_sql(con, "quality/previous_suppression_count", {"data_date": data_date}).fetchone()
    return None if row is None else (row[0], int(row[3]))


def record_and_compare(con: duckdb.DuckDBPyConnection, run_id: str, data_date: dt.date, file_present: bool,
                       min_share_percent: float, recorded_at: dt.datetime | None = None) -> SuppressionVerdict:
    """Count staging.suppressions, compare with the last successful run, then record tonight's count
    (a re-run of the night replaces its row)."""
    ensure_history_table(con)
    n = int(run_sql(con, "quality/suppression_count").fetchone()[0])
    verdict = suppression_verdict(n, file_present, previous_count(con, data_date), min_share_percent)
    # recorded_at only documents when; no result depends on it.
    stamp = recorded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    run_sql(con, "quality/record_suppression_count", {"data_date": data_date, "run_id": run_id,
                                                      "file_present": file_present, "n": n, "recorded_at": stamp})
    return verdict
