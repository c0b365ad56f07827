"""The persistent Dagster instance (`DAGSTER_HOME`): its `dagster.yaml`, and the clean-up of runs whose
process was killed.

SQLite run storage by default (no `storage:` key). For a team, switch to Postgres by adding, e.g.:

    storage:
      postgres:
        postgres_url: {env: DAGSTER_PG_URL}

(and `pip install dagster-postgres==0.29.27`). Runs are queued one at a time because every run
writes the same DuckDB file, which allows a single writing process.

A run whose process dies without a word (SIGKILL, the OOM killer, a reboot) stays STARTED in the run
storage, and with one run at a time the queue then never starts another one. Two things end such runs:
the daemon's run monitoring (`run_monitoring:` below; with the default run launcher it can only see a
start timeout and the maximum run time) and `fail_orphaned_runs`, which looks at the run's process
and is called by the command line, the schedule and the landing sensor before they start a run.
"""
from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

RUN_MONITORING_YAML = """\
# Run monitoring (the daemon started by `make ui`): a run that has not started after 3 minutes, or is
# still in progress after 6 hours (a full rebuild takes minutes), is marked failed, so a killed run
# cannot hold the one run slot for good. max_resume_run_attempts stays 0: the default run launcher
# cannot resume runs. `python -m workflows.cli run`, the schedule and the landing sensor also fail
# nightly runs whose process is gone before they start a new one (workflows/instance.py).
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_runtime_seconds: 21600
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""

DAGSTER_YAML = """\
# Written by `make` (workflows/instance.py); edit freely, it is only created when missing.
# One run at a time: every run writes the same DuckDB file (a single writer is allowed).
concurrency:
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
nux:
  enabled: false
""" + RUN_MONITORING_YAML

# Tags every run started by this project's code carries, so a later process can tell whether the
# run's process still exists (a pid only means something on the host that wrote it).
HOST_TAG = "segmentation/host"
PID_TAG = "segmentation/pid"
# A live process whose start is later than the run's start by more than this is a reused pid.
PID_REUSE_SLACK_S = 2.0


def ensure_instance(home: Path) -> Path:
    """Create `home/dagster.yaml` when missing (add the run monitoring block to an older file that has
    none: an instance created before it existed keeps its other settings and comments), then create
    the instance's storage, all under a lock file so that concurrent callers take turns."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    with _locked(home / ".instance.lock"):
        if not config.exists():
            config.write_text(DAGSTER_YAML, encoding="utf-8")
        else:
            text = config.read_text(encoding="utf-8")
            settings = yaml.safe_load(text) or {}
            if isinstance(settings, dict) and "run_monitoring" not in settings:
                config.write_text(text.rstrip("\n") + "\n" + RUN_MONITORING_YAML, encoding="utf-8")
        _create_storage(home)
    return config


@contextmanager
def _locked(path: Path):
    """An exclusive lock on `path` (created) while the block runs; other processes wait for it."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create_storage(home: Path) -> None:
    """Open the instance once, which creates its storage (the SQLite databases) when missing.

    Dagster's SQLite run and schedule storages create their tables on first open with nothing to stop
    another process doing the same: two processes opening a fresh DAGSTER_HOME at once (`dagster dev`
    and a nightly run, say) fail with "table alembic_version already exists" or "database is locked",
    or leave two alembic heads behind for good. Done here, by one process, before anything else."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)):
        pass


def run_process_tags() -> dict[str, str]:
    """Tags naming this process (host and pid), for a run executed in it."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


@dataclass(frozen=True)
class OrphanedRun:
    """A run marked failed because its process is gone."""

    run_id: str
    status: str
    pid: int


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc; None where /proc is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        # field 22 of /proc/<pid>/stat (index 19 after the command name) is the start in clock ticks
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def _process_state(pid: int) -> str | None:
    """The one-letter state of process `pid` from /proc (Z = zombie: dead, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def process_alive(pid: int, since: float) -> bool:
    """Whether process `pid` exists on this host and is the one that was running at `since` (epoch
    seconds): a process started later only reuses the number."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it belongs to another user
    if _process_state(pid) == "Z":
        return False
    started = _process_start_time(pid)
    return started is None or started <= since + PID_REUSE_SLACK_S


def _run_process(instance, record) -> tuple[int, float] | None:
    """(pid, a moment it was known to be running) for the process a run executes in: our tag (set by
    that process when it created the run), or the newest engine event naming a pid (the gRPC server's
    "Started process for run" and the in-process executor's event both carry `pid`); None if unknown."""
    from dagster import DagsterEventType

    run = record.dagster_run
    if run.tags.get(PID_TAG, "").isdigit():
        return int(run.tags[PID_TAG]), record.create_timestamp.timestamp()
    records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ENGINE_EVENT,
                                           ascending=False, limit=50).records
    for event in records:
        entry = event.event_log_entry
        data = entry.dagster_event.engine_event_data
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value), entry.timestamp
    return None


def _runs_here(instance, run) -> bool:
    """Whether the run's pid refers to this host: its host tag says so, or (no tag) everything is
    local: SQLite run storage and the default run launcher, which starts runs on this machine."""
    from dagster._core.launcher import DefaultRunLauncher
    from dagster._core.storage.runs import SqliteRunStorage

    if HOST_TAG in run.tags:
        return run.tags[HOST_TAG] == socket.gethostname()
    return isinstance(instance.run_storage, SqliteRunStorage) and isinstance(instance.run_launcher, DefaultRunLauncher)


def fail_orphaned_runs(instance, job_name: str, reporter: str) -> list[OrphanedRun]:
    """Mark every STARTING/STARTED run of `job_name` whose process is gone as FAILURE, with a message
    naming the pid and `reporter` (who noticed). Runs on other hosts, or without a known pid, are left
    to the daemon's run monitoring. Returns what was marked."""
    from dagster import DagsterRunStatus, RunsFilter

    statuses = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    marked = []
    for record in instance.get_run_records(RunsFilter(job_name=job_name, statuses=statuses)):
        run = record.dagster_run
        process = _run_process(instance, record)
        if process is None or not _runs_here(instance, run):
            continue
        pid, since = process
        if process_alive(pid, since):
            continue
        instance.report_run_failed(
            run, f"The run's process (pid {pid} on {run.tags.get(HOST_TAG, 'this host')}) is gone: it was "
                 f"killed or crashed while the run was {run.status.value}. Marked failed by {reporter} at "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}; re-run the night (a run redoes what was cut off).")
        marked.append(OrphanedRun(run.run_id, run.status.value, pid))
    return marked


def wait_for_runs_in_progress(instance, job_name: str, say, timeout_s: float = 6 * 3600, poll_s: float = 5.0) -> None:
    """Block while another run of `job_name` is starting, started or canceling (e.g. the schedule's,
    launched by the daemon): a command-line run executes in this process, outside the run queue, so it
    waits its turn here instead of interleaving its steps with the other run's. Call it after
    `fail_orphaned_runs`, so a dead run is not waited for. `say(text)` reports the wait once."""
    from dagster import DagsterRunStatus, RunsFilter

    statuses = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    deadline = time.monotonic() + timeout_s
    reported = set()
    while True:
        busy = instance.get_runs(RunsFilter(job_name=job_name, statuses=statuses))
        if not busy:
            return
        for run in busy:
            if run.run_id not in reported:
                reported.add(run.run_id)
                say(f"Waiting for run {run.run_id[:8]} ({run.status.value}) to finish first: one run at a time.")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"run {busy[0].run_id[:8]} of {job_name} is still {busy[0].status.value} after "
                               f"{timeout_s:.0f}s; see it in the UI (Runs), or cancel it there")
        time.sleep(poll_s)


def fail_orphaned_runs_for(context, job_name: str, reporter: str) -> list[OrphanedRun]:
    """`fail_orphaned_runs` from a schedule or sensor evaluation. The daemon always gives the context an
    instance; a context built in a test without one has nothing to clean."""
    from dagster._core.errors import DagsterInvariantViolationError

    try:
        instance = context.instance
    except DagsterInvariantViolationError:
        return []
    return fail_orphaned_runs(instance, job_name, reporter)


def invalid_config_line(exc: BaseException, home: Path) -> str | None:
    """For an invalid `home/dagster.yaml`: the file and its first problem, in one line (Dagster's own
    first line does not say which file or what is wrong); None for any other error."""
    from dagster._core.errors import DagsterInvalidConfigError

    if isinstance(exc, DagsterInvalidConfigError) and "dagster instance config" in str(exc) and exc.errors:
        more = f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        return f"{home / 'dagster.yaml'}: {exc.errors[0].message}{more}"
    return None


def main(argv: list[str]) -> int:
    """`python -m workflows.instance DAGSTER_HOME` (what `make setup` runs): ensure_instance; an invalid
    dagster.yaml is one line on stderr, exit 2."""
    home = Path(argv[0])
    try:
        ensure_instance(home)
    except Exception as exc:
        line = invalid_config_line(exc, home)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
