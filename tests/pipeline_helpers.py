"""Shared helpers for end-to-end tests: a sample landing folder and a config copy in tmp dirs, the
nightly CLI run in a subprocess (to completion, or SIGKILLed when a progress line appears), and
order-independent snapshots of a warehouse and an export tree for comparing two runs.

Every run gets its own warehouse, exports, reports, DAGSTER_HOME and TMPDIR; the landing folder and
the config copy can be shared (the pipeline only reads them), which keeps `_source_file` paths equal
across runs that are compared.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import polars as pl
import yaml

from sample.generate import generate
from workflows.instance import ensure_instance
from workflows.settings import REPO_ROOT

SAMPLE_END_DATE = dt.date(2026, 11, 20)  # fixed, so every run processes the same night
STEP_START = "… "  # what workflows/progress.py prints when a step starts: "  … <step_key>"


@dataclass(frozen=True)
class PipelineDirs:
    """Where one pipeline run reads and writes (all under a tmp folder)."""

    landing: Path
    config: Path
    warehouse: Path
    exports: Path
    reports: Path
    dagster_home: Path
    tmp: Path

    @classmethod
    def under(cls, root: Path, landing: Path, config: Path) -> "PipelineDirs":
        """Output folders under `root` (created, with a Dagster instance), reading `landing` and `config`."""
        root.mkdir(parents=True, exist_ok=True)
        dirs = cls(landing=landing, config=config, warehouse=root / "warehouse.duckdb", exports=root / "exports",
                   reports=root / "reports", dagster_home=root / "dagster", tmp=root / "tmp")
        dirs.tmp.mkdir(exist_ok=True)
        ensure_instance(dirs.dagster_home)
        return dirs

    def env(self, data_date: dt.date | None = SAMPLE_END_DATE) -> dict[str, str]:
        """This process's environment with every pipeline path pointed here (for a subprocess)."""
        env = dict(os.environ)
        env.update(
            LANDING_DIR=str(self.landing), WAREHOUSE_PATH=str(self.warehouse), EXPORT_DIR=str(self.exports),
            REPORT_DIR=str(self.reports), DAGSTER_HOME=str(self.dagster_home),
            SEGMENTATION_CONFIG_DIR=str(self.config), TMPDIR=str(self.tmp),
            PYTHONDONTWRITEBYTECODE="",  # .pyc files halve the start-up of every dagster process
            PYTHONUNBUFFERED="1",  # progress lines must arrive as they are printed
        )
        env.pop("DATA_DATE", None)
        if data_date is not None:
            env["DATA_DATE"] = data_date.isoformat()
        return env


def make_sample(landing: Path, scale: str = "tiny", end_date: dt.date = SAMPLE_END_DATE) -> dict:
    """Write the generated sample landing folder (same arguments, same bytes); the generator's result."""
    return generate(landing, scale=scale, end_date=end_date)


def make_config(dest: Path, min_size: int | None = None, sensor_enabled: bool = False) -> Path:
    """Copy `config/` to `dest`. `min_size` replaces every destination's minimum list size (so tiny
    samples publish); the landing sensor is off unless asked for (a test's daemon must not start runs)."""
    shutil.copytree(REPO_ROOT / "config", dest)
    if min_size is not None:
        path = dest / "destinations.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for destination in data["destinations"].values():
            destination["min_size"] = min_size
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    path = dest / "pipeline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["landing_sensor"]["enabled"] = sensor_enabled
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return dest


def nightly_command(*args: str) -> list[str]:
    """`python -m workflows.cli run ...` with this interpreter."""
    return [sys.executable, "-m", "workflows.cli", "run", *args]


def run_nightly(dirs: PipelineDirs, *args: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess:
    """Run the nightly job to completion in a subprocess; AssertionError with the output's tail if it fails."""
    done = subprocess.run(nightly_command(*args), cwd=REPO_ROOT, env=dirs.env(), capture_output=True, text=True,
                          timeout=timeout_s, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = "\n".join((done.stderr + done.stdout).splitlines()[-40:])
        raise AssertionError(f"nightly run into {dirs.warehouse} failed with code {done.returncode}:\n{tail}")
    return done


@dataclass
class KilledRun:
    """A nightly run that was SIGKILLed (or ended first): its progress lines and what happened."""

    lines: list[str] = field(default_factory=list)
    killed: bool = False
    returncode: int | None = None
    seconds: float = 0.0

    def started_steps(self) -> list[str]:
        """Step keys whose start line was printed before the kill."""
        return [line.split(STEP_START, 1)[1].strip() for line in self.lines if STEP_START in line]


def run_and_kill(dirs: PipelineDirs, trigger: str | Callable[[], bool] | None, delay_s: float,
                 timeout_s: float = 300.0) -> KilledRun:
    """Start the nightly run in its own process group and SIGKILL the whole group `delay_s` seconds
    after the trigger: a stderr line matching the regex `trigger`, or `trigger()` returning True
    (polled every 5 ms, e.g. a file appearing), or the start when `trigger` is None.

    A run that finishes before the kill is reported with `killed=False`."""
    pattern = re.compile(trigger) if isinstance(trigger, str) else None
    condition = trigger if callable(trigger) else None
    report = KilledRun()
    started = time.monotonic()
    process = subprocess.Popen(nightly_command(), cwd=REPO_ROOT, env=dirs.env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1,
                               start_new_session=True)
    seen = threading.Event()
    if trigger is None:
        seen.set()

    def read_progress() -> None:
        for line in process.stderr:
            report.lines.append(line.rstrip("\n"))
            if pattern is not None and pattern.search(line):
                seen.set()

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    deadline = started + timeout_s
    while process.poll() is None and not seen.wait(0.005) and time.monotonic() < deadline:
        if condition is not None and condition():
            seen.set()
    if process.poll() is None and seen.is_set():
        end = time.monotonic() + delay_s
        while process.poll() is None and time.monotonic() < end:
            time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        report.killed = True
    report.returncode = process.wait(timeout=30)
    reader.join(timeout=10)
    report.seconds = time.monotonic() - started
    if not report.killed and time.monotonic() >= deadline:
        raise AssertionError(f"the run did not reach {trigger!r} within {timeout_s:.0f}s")
    return report


# ---- comparing two runs -------------------------------------------------------------------------

def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every user table as "schema.table", sorted."""
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() where not internal and not temporary order by 1"
    ).fetchall()
    return [name for (name,) in rows]


def table_as_text(con: duckdb.DuckDBPyConnection, table: str, exclude: set[str] = frozenset()) -> pl.DataFrame:
    """Every column but `exclude`, cast to text by DuckDB (lists and JSON included), as a Polars frame.
    `table` must come from `warehouse_tables` (a real name, not user input)."""
    relation = con.table(table)
    columns = [c for c in relation.columns if c not in exclude]
    text = duckdb.sqltype("VARCHAR")
    return relation.select(*[duckdb.ColumnExpression(c).cast(text).alias(c) for c in columns]).pl()


def row_differences(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """Rows whose number of copies differs between two frames of text columns (order-independent,
    duplicates counted, NULLs equal): the columns plus `copies_left` and `copies_right`. Empty = same
    contents."""
    if left.columns != right.columns:
        raise AssertionError(f"different columns: {left.columns} vs {right.columns}")
    columns = left.columns
    # names no table column can collide with (a join suffixes clashing key names with "_right")
    counts_left = left.group_by(columns).len("copies_left")
    counts_right = right.group_by(columns).len("copies_right")
    joined = counts_left.join(counts_right, on=columns, how="full", nulls_equal=True, coalesce=True)
    both = pl.col("copies_left", "copies_right").fill_null(0)
    return joined.with_columns(both).filter(pl.col("copies_left") != pl.col("copies_right"))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_tree(exports: Path) -> list[str]:
    """Every entry under the export folder as a relative path (symlinks as "path -> target"), sorted."""
    entries = []
    for path in sorted(exports.rglob("*")):
        rel = path.relative_to(exports).as_posix()
        entries.append(f"{rel} -> {os.readlink(path)}" if path.is_symlink() else rel)
    return entries


def latest_links(exports: Path) -> list[Path]:
    """Every `<audience>/<destination>/latest` link, dangling ones included (glob skips those)."""
    return [folder / "latest" for folder in sorted(exports.glob("*/*")) if (folder / "latest").is_symlink()]


def latest_problems(exports: Path) -> list[str]:
    """What is wrong with what readers see through each `latest` link (empty = every `latest` points
    at a complete publish: audience/adds/removes CSVs and a manifest whose sha256s match them)."""
    problems = []
    for link in latest_links(exports):
        target = link.resolve()
        if not target.is_dir():
            problems.append(f"{link} -> {os.readlink(link)} does not exist")
            continue
        names = sorted(p.name for p in target.iterdir())
        if names != ["adds.csv", "audience.csv", "manifest.json", "removes.csv"]:
            problems.append(f"{link}: files {names}")
            continue
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        for name, info in manifest["files"].items():
            if sha256_file(target / name) != info["sha256"]:
                problems.append(f"{link}/{name}: sha256 differs from manifest.json")
    return problems
