"""What the landing folder holds, what a load reports, and the error for a file that cannot be loaded.

Landing layout (docs/tables.md): `crm/<entity>.csv` full snapshots and `web/events/YYYY-MM-DD.jsonl`
day files. Every raw table is created here from `sql/raw/create_tables.sql`, so an empty source
(e.g. no suppressions file) still leaves its table, with the contract's columns, for staging to read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.sql_files import run_sql

CRM_ENTITIES = ("accounts", "contacts", "opportunities", "subscriptions", "suppressions")
WEB_SOURCE = "web_events"


class LandingFileError(ValueError):
    """A landing file is structurally wrong (missing, empty, a required column absent, a bad name).

    Raised before any table is changed. `problems` lists every (file, problem) found, so one run shows
    them all; the message names each file and what to do.
    """

    def __init__(self, problems: list[tuple[Path | str, str]]):
        self.problems = [(str(f), p) for f, p in problems]
        lines = [f"{f}: {p}" for f, p in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else "landing files cannot be loaded:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class LoadCounts:
    """What one load did: rows into the raw table, rows into raw.quarantine, files read/skipped,
    the formats detected (canonical, hubspot, salesforce, segment), and (web events) the lines
    diagnosed from their text instead of taken from the JSON reader (`lines_from_text`)."""

    rows_loaded: int = 0
    rows_quarantined: int = 0
    files_read: int = 0
    files_skipped: int = 0
    formats: tuple[str, ...] = field(default_factory=tuple)
    lines_from_text: int = 0

    def __add__(self, other: "LoadCounts") -> "LoadCounts":
        return LoadCounts(
            self.rows_loaded + other.rows_loaded,
            self.rows_quarantined + other.rows_quarantined,
            self.files_read + other.files_read,
            self.files_skipped + other.files_skipped,
            tuple(sorted(set(self.formats) | set(other.formats))),
            self.lines_from_text + other.lines_from_text,
        )


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema `raw` and every raw table of the contract if missing (no data is touched)."""
    run_sql(con, "raw/create_tables")
