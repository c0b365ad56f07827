"""Resources: the warehouse (one DuckDB file) and the folders the pipeline reads and writes."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource

from workflows.settings import Settings


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse file. One writing process at a time (DuckDB's rule), so the nightly job
    runs in-process and the instance allows one run at a time."""

    path: str
    # Another process (a user's ad-hoc query, a run started elsewhere) may hold DuckDB's file lock:
    # wait for it rather than fail, up to this many seconds.
    lock_timeout_s: float = 600.0

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = connect_waiting(self.path, read_only, self.lock_timeout_s)
        try:
            yield con
        finally:
            con.close()


def connect_waiting(path: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, retrying while another process holds the file lock."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


class Folders(ConfigurableResource):
    """Where landing files are read from and where exports and reports are written."""

    landing_dir: str
    export_dir: str
    report_dir: str
    config_dir: str

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def exports(self) -> Path:
        return Path(self.export_dir)

    @property
    def reports(self) -> Path:
        return Path(self.report_dir)

    @property
    def config(self) -> Path:
        return Path(self.config_dir)


def resources_from_settings(settings: Settings | None = None) -> dict[str, ConfigurableResource]:
    settings = settings or Settings.from_env()
    return {
        "warehouse": Warehouse(path=str(settings.warehouse_path)),
        "folders": Folders(
            landing_dir=str(settings.landing_dir),
            export_dir=str(settings.export_dir),
            report_dir=str(settings.report_dir),
            config_dir=str(settings.config_dir),
        ),
    }
