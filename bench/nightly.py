"""One measured nightly run: `python -m workflows.cli run` in a subprocess with its own warehouse,
Dagster instance, exports and reports; wall time, peak RSS of its process tree, and the time of every
step and asset read back from the run's events in that instance (so new assets appear by themselves).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.data import child_env, last_line
from bench.process_tree import PeakRssSampler
from workflows.settings import REPO_ROOT


@dataclass(frozen=True)
class RunFolders:
    """Where one nightly run keeps its state (everything the job writes)."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def log(self) -> Path:
        return self.root / "nightly.log"

    def env(self, landing: Path) -> dict[str, str]:
        """The variables `workflows.settings.Settings.from_env` reads, pointed at this run."""
        return {"LANDING_DIR": str(landing), "WAREHOUSE_PATH": str(self.warehouse), "DAGSTER_HOME": str(self.dagster_home),
                "EXPORT_DIR": str(self.exports), "REPORT_DIR": str(self.reports)}


@dataclass
class NightlyResult:
    """What one nightly run cost and whether it worked."""

    phase: str
    ok: bool
    wall_s: float
    peak_rss_bytes: int
    returncode: int
    data_date: str
    load_avg_1m: float | None = None  # the machine's load when the run started: other work skews times
    error: str | None = None
    run_id: str | None = None
    run_status: str | None = None  # the Dagster run's status (SUCCESS while the CLI may still fail after it)
    run_s: float | None = None  # RUN_START -> RUN_SUCCESS/FAILURE inside Dagster (no process start-up)
    per_step_s: dict[str, float] = field(default_factory=dict)
    per_asset_s: dict[str, float] = field(default_factory=dict)
    peak_rss_by_step: dict[str, int] = field(default_factory=dict)  # tree RSS peak while the step ran
    failed_steps: list[str] = field(default_factory=list)
    attempts_s: list[float] = field(default_factory=list)  # wall time of every attempt (repeated nights)
    per_step_median_s: dict[str, float] = field(default_factory=dict)  # per step, the median over the attempts

    def as_dict(self) -> dict:
        """JSON-ready form for report.json."""
        return asdict(self)


def median_run(attempts: list[NightlyResult]) -> NightlyResult:
    """The attempt to report for a night run several times from the same state: a failed one if any
    failed (its error matters more than a time), else the median by wall time (the lower middle one of
    an even number). It carries every attempt's wall time in `attempts_s` and the highest peak RSS of
    them all (the memory target holds for every run), and per step the median over the attempts
    (`per_step_median_s`: one step of one attempt swings by tenths of a second)."""
    if not attempts:
        raise ValueError("median_run: no attempt")
    failed = [a for a in attempts if not a.ok]
    chosen = failed[0] if failed else sorted(attempts, key=lambda a: a.wall_s)[(len(attempts) - 1) // 2]
    chosen.attempts_s = [a.wall_s for a in attempts]
    chosen.peak_rss_bytes = max(a.peak_rss_bytes for a in attempts)
    steps = {step for a in attempts for step in a.per_step_s}
    chosen.per_step_median_s = {
        step: round(statistics.median(a.per_step_s[step] for a in attempts if step in a.per_step_s), 3)
        for step in sorted(steps)}
    return chosen


def copy_state(src: RunFolders, dst: RunFolders) -> None:
    """Copy a finished run's warehouse, instance, exports and reports to a scratch run folder, and
    write the copy to disk before returning (see `flush_to_disk`)."""
    shutil.rmtree(dst.root, ignore_errors=True)
    dst.root.mkdir(parents=True)
    for path in src.root.iterdir():
        if path.name == src.log.name:
            continue
        target = dst.root / path.name
        if path.is_dir() and not path.is_symlink():
            # links stay links: exports point `latest` at a run folder and replace the link atomically
            shutil.copytree(path, target, symlinks=True)
        else:
            shutil.copy2(path, target, follow_symlinks=False)
    flush_to_disk(dst.root)


def flush_to_disk(root: Path) -> None:
    """fsync every file and folder under `root`. A copied warehouse sits in the page cache as dirty
    pages, and the first commit of the night timed next would wait for the kernel to write all of them
    back (measured: the raw web events load's commit 1.5s instead of 0.44s after copying the 5 GB
    365-day state, 0.56s instead of 0.32s for the 1.5 GB 30-day one): the copy's cost, not the night's,
    and one that grows with the history. A real night starts from a warehouse written long before."""
    for folder, dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():  # links, and pipes or sockets a run left
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def run_nightly(phase: str, folders: RunFolders, landing: Path, data_date: dt.date, timeout_s: float) -> NightlyResult:
    """Run the nightly job for `data_date` on `landing` in a subprocess and measure it."""
    folders.root.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "workflows.cli", "run", "--data-date", data_date.isoformat()]
    load = os.getloadavg()[0]
    with folders.log.open("w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=child_env(folders.env(landing)))
        with PeakRssSampler(proc.pid) as sampler:
            try:
                returncode = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
                log.write(f"\nerror: bench stopped the run after {timeout_s:.0f} s (--timeout)\n")
        wall_s = time.perf_counter() - started
    result = NightlyResult(phase, returncode == 0, round(wall_s, 3), sampler.peak_bytes, returncode,
                           data_date.isoformat(), round(load, 2))
    if returncode != 0:
        result.error = last_line(folders.log)
    try:
        windows = read_step_timings(folders.dagster_home, result)
        result.peak_rss_by_step = {step: sampler.peak_between(start, end) for step, (start, end) in windows.items()}
    except Exception as exc:  # the run may have died before the instance existed; say so, keep going
        result.error = result.error or f"could not read the run's events: {exc}"
        result.ok = False
    return result


def root_cause(error) -> str:
    """`ExceptionClass: first line(s)` of the innermost cause of a Dagster SerializableErrorInfo."""
    if error is None:
        return "failed (no error recorded)"
    while error.cause is not None:
        error = error.cause
    lines = [ln.strip() for ln in (error.message or "").strip().splitlines() if ln.strip()]
    # a message ending in ':' introduces what it is about (e.g. which blocking check failed)
    text = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    return (text or error.cls_name or "error")[:500]


def read_step_timings(dagster_home: Path, result: NightlyResult) -> dict[str, tuple[float, float]]:
    """Fill `run_id`, `run_s`, `per_step_s` and `per_asset_s` from the newest run in the instance;
    return each finished step's (start, end) epoch times.

    A step's time runs from STEP_START to its STEP_SUCCESS/STEP_FAILURE. A step that materialises one
    asset gives that asset its time; a multi-asset step is split at its materialisation events; a step
    with no materialisation (e.g. an asset check) keeps its step key."""
    from dagster import DagsterEventType, DagsterInstance  # late: importing dagster costs seconds

    if not (dagster_home / "dagster.yaml").is_file():
        raise FileNotFoundError(f"{dagster_home}/dagster.yaml: the run created no Dagster instance")
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            raise LookupError(f"{dagster_home}: no run recorded")
        run_id = runs[0].run_id
        result.run_status = runs[0].status.value
        logs = instance.all_logs(run_id)
    result.run_id = run_id
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    materialized: dict[str, list[tuple[float, str]]] = {}
    run_start = run_end = first_failure = None
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == DagsterEventType.RUN_START:
            run_start = entry.timestamp
        elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
            run_end = entry.timestamp
        elif kind == DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ends[entry.step_key] = entry.timestamp
            if kind == DagsterEventType.STEP_FAILURE:
                result.failed_steps.append(entry.step_key)
                if first_failure is None:
                    first_failure = f"{entry.step_key}: {root_cause(event.step_failure_data.error)}"
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialized.setdefault(entry.step_key, []).append((entry.timestamp, event.asset_key.to_user_string()))
    if first_failure is not None:
        result.error = first_failure  # the step's own exception says more than the CLI's last line
    elif result.returncode != 0 and result.run_status == "SUCCESS":
        result.error = f"the job succeeded, then the command failed: {result.error}"
    if run_start is not None and run_end is not None:
        result.run_s = round(run_end - run_start, 3)
    windows: dict[str, tuple[float, float]] = {}
    for step, start in starts.items():
        end = ends.get(step)
        if end is None:
            continue
        result.per_step_s[step] = round(end - start, 3)
        windows[step] = (start, end)
        marks = sorted(materialized.get(step, []))
        if len(marks) <= 1:
            result.per_asset_s[marks[0][1] if marks else step] = round(end - start, 3)
            continue
        previous = start
        for i, (ts, asset) in enumerate(marks):
            # the last asset also owns what follows its event (metadata, outputs) up to the step's end
            stop = end if i == len(marks) - 1 else ts
            result.per_asset_s[asset] = round(stop - previous, 3)
            previous = stop
    return windows
