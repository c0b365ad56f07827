"""Resources: the warehouse (one DuckDB file) and the folders the pipeline reads and writes.

Paths left empty are resolved from the environment (`workflows/settings.py`) when a run uses them,
not when the code location is imported, so tests and users can point them anywhere.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from workflows.settings import Settings


DEFAULT_MEMORY_LIMIT = "2.5GB"


def duckdb_config(path: str) -> dict[str, str]:
    """DuckDB settings for the warehouse: a memory ceiling (DuckDB spills to disk beyond it instead of
    taking 80% of the machine) and a spill folder next to the warehouse file. The default ceiling keeps
    a nightly run at bench scale (20M events) under 4 GB of RSS: the process holds ~1 GB besides
    DuckDB's buffers. Measured alone, the full staging.events build peaks at 3.2 GB RSS with 3GB and
    2.75 GB with 2.5GB, in the same time."""
    config = {"memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT}
    config["temp_directory"] = str(Path(path).with_suffix(".tmp"))
    threads = os.environ.get("DUCKDB_THREADS", "").strip()
    if threads:
        config["threads"] = threads
    return config


def without_progress_bar(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` without DuckDB's progress bar, drawn on stdout for long queries: noise in run logs. A
    setting of the connection, not of the database: every cursor needs it too."""
    con.execute("set enable_progress_bar = false")
    return con


def connect_waiting(path: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, retrying while another process holds the file lock."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return without_progress_bar(duckdb.connect(path, read_only=read_only, config=duckdb_config(path)))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


RELEASE_LIMIT = "64MB"


def release_memory(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """Make DuckDB give back the memory it holds between queries: the blocks it cached and the memory
    its allocator kept. Lowering the memory limit evicts them (a block of a table is re-read from the
    file when needed again); the limit is then restored. Call with no query running. If DuckDB cannot
    get under the low limit (data it would have to spill), the limit stays as it was."""
    try:
        con.execute("set memory_limit = $limit", {"limit": RELEASE_LIMIT})
    except duckdb.OutOfMemoryException:
        return
    con.execute("set memory_limit = $limit", {"limit": memory_limit})


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse file (`WAREHOUSE_PATH`). One writing process at a time (DuckDB's rule), so
    the nightly job runs in-process and the instance allows one run at a time.

    Within a run the file is opened once, on the first `connect()`, and closed when the run ends
    (Dagster's teardown, failed runs too); each `connect()` is a connection of its own to that database
    (its temp tables and settings go with it). Opening the file per step cost a checkpoint when the
    step's connection closed and a catalog load when the next one opened: a fixed ~40-90 ms each on a
    bench-scale warehouse, growing with the file, for ~60 steps a night. Committed writes are in the
    WAL until DuckDB checkpoints (when the WAL passes `checkpoint_threshold`, and at the close), so a
    killed run loses nothing it committed. When the last open connection closes, DuckDB's cached
    blocks and freed memory are handed back (`release_memory`): a step starts with as little held as
    it did with its own database, so the run's peak memory stays the one step's peak. Outside a run
    (scripts, tests calling `connect()` directly) every `connect()` opens and closes the file."""

    path: str = ""
    # Another process (a user's ad-hoc query, a run started elsewhere) may hold DuckDB's file lock:
    # wait for it rather than fail, up to this many seconds.
    lock_timeout_s: float = 600.0

    _in_run: bool = PrivateAttr(default=False)
    _database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _memory_limit: str = PrivateAttr(default="")  # the run's database was opened with it
    _open_connections: int = PrivateAttr(default=0)

    @property
    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else Settings.from_env().warehouse_path

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._in_run = False
        database, self._database = self._database, None
        if database is not None:
            database.close()  # DuckDB checkpoints what the WAL holds

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self._in_run:
            con = self._open(read_only)
            try:
                yield con
            finally:
                con.close()
            return
        if self._database is None:
            self._database = self._open(read_only=False)  # the run writes: one read-write database
            self._memory_limit = duckdb_config(str(self.resolved_path))["memory_limit"]
        con = without_progress_bar(self._database.cursor())
        self._open_connections += 1
        try:
            yield con
        finally:
            con.close()
            self._open_connections -= 1
            if self._open_connections == 0:
                release_memory(self._database, self._memory_limit)

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        path = self.resolved_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return connect_waiting(str(path), read_only, self.lock_timeout_s)


class Folders(ConfigurableResource):
    """Where landing files are read from (`LANDING_DIR`), exports (`EXPORT_DIR`) and reports
    (`REPORT_DIR`) are written, and the rule files live (`SEGMENTATION_CONFIG_DIR`)."""

    landing_dir: str = ""
    export_dir: str = ""
    report_dir: str = ""
    config_dir: str = ""

    def _pick(self, value: str, default: Path) -> Path:
        return Path(value) if value else default

    @property
    def landing(self) -> Path:
        return self._pick(self.landing_dir, Settings.from_env().landing_dir)

    @property
    def exports(self) -> Path:
        return self._pick(self.export_dir, Settings.from_env().export_dir)

    @property
    def reports(self) -> Path:
        return self._pick(self.report_dir, Settings.from_env().report_dir)

    @property
    def config(self) -> Path:
        return self._pick(self.config_dir, Settings.from_env().config_dir)


def resources_from_settings(settings: Settings | None = None) -> dict[str, ConfigurableResource]:
    """Resources for a run. Without settings, every path follows the environment at run time."""
    if settings is None:
        return {"warehouse": Warehouse(), "folders": Folders()}
    return {
        "warehouse": Warehouse(path=str(settings.warehouse_path)),
        "folders": Folders(
            landing_dir=str(settings.landing_dir),
            export_dir=str(settings.export_dir),
            report_dir=str(settings.report_dir),
            config_dir=str(settings.config_dir),
        ),
    }
