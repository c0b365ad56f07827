"""The whole landing folder checked before either raw load changes a table.

The CRM load and the web-event load are two assets; either may run first. Each calls
`check_landing`, so a structural problem anywhere (a CRM file missing a required column, an empty or
misnamed day file) stops the run before any raw table changes, with every problem listed at once.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from assets.raw.crm_load import check_crm_files
from assets.raw.landing import LandingFileError
from assets.raw.vendor_formats import DetectedFormat, load_vendor_formats
from assets.raw.web_events_load import event_day_files


def check_landing(landing_dir: Path, config_dir: Path | None = None) -> tuple[dict[str, DetectedFormat | None], dict[dt.date, Path]]:
    """The CRM formats detected and the event day files; one LandingFileError listing every
    structural problem of both (nothing is read beyond headers and file names)."""
    problems: list[tuple[str, str]] = []
    detected: dict[str, DetectedFormat | None] = {}
    days: dict[dt.date, Path] = {}
    try:
        detected = check_crm_files(Path(landing_dir), load_vendor_formats(config_dir))
    except LandingFileError as exc:
        problems += exc.problems
    try:
        days = event_day_files(Path(landing_dir))
    except LandingFileError as exc:
        problems += exc.problems
    if problems:
        raise LandingFileError(problems)
    return detected, days
