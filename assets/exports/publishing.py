"""What a publish needs and returns, and the small `Publisher` interface.

The filesystem publisher (`publish_files.FilesystemPublisher`) is the one that works today; an API
uploader (Google Data Manager API, Meta Marketing API, LinkedIn DMP segments) implements the same
`publish` and reuses the destinations' rendered rows, so audience logic never changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

import polars as pl

from assets.exports.destinations import Destination

MANIFEST_SCHEMA_VERSION = 1

Status = Literal["published", "unchanged", "skipped"]


@dataclass(frozen=True)
class PublishContext:
    """Facts about the run that go into the manifest (none of them change the published rows)."""

    run_id: str
    data_date: date
    holdout_size: int = 0
    check_results: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable
    schema_version: int = MANIFEST_SCHEMA_VERSION
    # Set when the audience itself is below its own min_size: every destination then treats the list
    # as too small (a publish only happens to withdraw people who left the list; see publish_files).
    below_minimum: str | None = None

    def __post_init__(self) -> None:
        # Accept "2026-11-24" as well as a date; anything else is a caller bug worth a clear message.
        if isinstance(self.data_date, str):
            try:
                object.__setattr__(self, "data_date", date.fromisoformat(self.data_date))
            except ValueError as exc:
                raise ValueError(f"PublishContext.data_date: {self.data_date!r} is not YYYY-MM-DD") from exc
        if not isinstance(self.data_date, date):
            raise ValueError(f"PublishContext.data_date must be a date, got {type(self.data_date).__name__}")


@dataclass(frozen=True)
class PublishResult:
    """Outcome of one publish of one audience to one destination (a row of `audiences.publish_log`).

    status: `published` (new files, `latest` moved), `unchanged` (same rows as `latest`; nothing
    written) or `skipped` (below the destination's minimum size; nothing written; see `reason`). A
    list below the minimum is still published when people published before have left it (opted out,
    suppressed, no longer matching): `latest` must never keep them; `reason` then says so.
    """

    status: Status
    audience: str
    destination: str
    publish_id: str | None = None
    path: Path | None = None
    rows: int = 0
    adds: int = 0
    removes: int = 0
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> hex digest
    reason: str | None = None
    below_minimum: bool = False  # the list is below a minimum size (skipped, or published to withdraw)


class Publisher(Protocol):
    """Sends a destination's rendered rows somewhere and reports what happened."""

    def publish(
        self, audience: str, destination: Destination, rows: pl.DataFrame, context: PublishContext
    ) -> PublishResult:
        """Publish `rows` (exactly `destination.columns`) of `audience`; never raise for a small list."""
        ...
