"""The command line on a generated tiny sample in tmp dirs: a run SIGKILLed mid-way is marked failed by
the next run (so the one run slot is free again), and `backfill --start --end` reloads exactly the day
files in its range, or refuses a range that holds none before starting anything."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from pipeline_helpers import PipelineDirs, make_config, make_sample, run_and_kill, run_nightly
from workflows.settings import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("end_to_end")]
BACKFILL = (dt.date(2026, 11, 2), dt.date(2026, 11, 4))  # three days inside the sample's 30


@dataclass
class KilledThenRerun:
    """A nightly run SIGKILLed at its first step, then a complete run on the same folders."""

    dirs: PipelineDirs
    killed_run_id: str
    rerun: subprocess.CompletedProcess


def open_instance(dirs: PipelineDirs) -> DagsterInstance:
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(dirs.dagster_home)))


def cli(dirs: PipelineDirs, *args: str) -> subprocess.CompletedProcess:
    """`python -m workflows.cli ARGS` on these folders, to completion."""
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=REPO_ROOT, env=dirs.env(),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def killed_then_rerun(tmp_path_factory) -> KilledThenRerun:
    root = tmp_path_factory.mktemp("cli_end_to_end")
    make_sample(root / "landing")
    dirs = PipelineDirs.under(root / "run", root / "landing", make_config(root / "config", min_size=1))
    killed = run_and_kill(dirs, trigger=r"… \S+", delay_s=0.0)  # at the first step's start line
    assert killed.killed, killed.lines[-20:]
    with open_instance(dirs) as instance:
        (run,) = instance.get_runs(RunsFilter(job_name="nightly"))
        assert run.status == DagsterRunStatus.STARTED  # what blocks the queue of one
    return KilledThenRerun(dirs, run.run_id, run_nightly(dirs))


def test_a_run_killed_mid_way_is_marked_failed_by_the_next_cli_run(killed_then_rerun: KilledThenRerun):
    killed_id = killed_then_rerun.killed_run_id
    assert f"Marked run {killed_id[:8]} failed: it was STARTED but its process" in killed_then_rerun.rerun.stderr
    with open_instance(killed_then_rerun.dirs) as instance:
        assert instance.get_run_by_id(killed_id).status == DagsterRunStatus.FAILURE
        (failure,) = instance.get_records_for_run(killed_id, of_type=DagsterEventType.RUN_FAILURE).records
        assert "is gone" in failure.event_log_entry.dagster_event.message
        statuses = [r.status for r in instance.get_runs(RunsFilter(job_name="nightly"))]
        assert sorted(s.value for s in statuses) == ["FAILURE", "SUCCESS"]
        assert not instance.get_runs(RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES))  # the slot is free


def load_log(warehouse: Path) -> dict[dt.date, tuple]:
    """event_date -> (loaded_at, rows_loaded) of every web event day in raw.load_log."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select event_date, loaded_at, rows_loaded from raw.load_log "
                           "where source = 'web_events' and event_date is not null").fetchall()
    finally:
        con.close()
    return {day: (loaded_at, n) for day, loaded_at, n in rows}


def test_backfill_reloads_exactly_the_days_in_its_range(killed_then_rerun: KilledThenRerun):
    dirs = killed_then_rerun.dirs
    before = load_log(dirs.warehouse)
    assert len(before) == 30
    done = cli(dirs, "backfill", "--start", str(BACKFILL[0]), "--end", str(BACKFILL[1]))
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Backfill: reloading 3 web event day file(s), {BACKFILL[0]} to {BACKFILL[1]}" in done.stderr
    after = load_log(dirs.warehouse)
    reloaded = sorted(d for d in after if after[d][0] != before[d][0])
    assert reloaded == [BACKFILL[0] + dt.timedelta(days=i) for i in range(3)]
    assert {d: n for d, (_, n) in after.items()} == {d: n for d, (_, n) in before.items()}  # same rows again
    with open_instance(dirs) as instance:
        (newest,) = instance.get_runs(RunsFilter(job_name="nightly"), limit=1)
        assert newest.status == DagsterRunStatus.SUCCESS and newest.tags["backfill"] == f"{BACKFILL[0]}..{BACKFILL[1]}"


def test_backfill_with_no_day_file_in_its_range_fails_in_one_line(tmp_path):
    make_sample(tmp_path / "landing")
    dirs = PipelineDirs.under(tmp_path / "run", tmp_path / "landing", make_config(tmp_path / "config"))
    done = cli(dirs, "backfill", "--start", "2020-01-01", "--end", "2020-01-31")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    events = tmp_path / "landing" / "web" / "events"
    assert done.stderr.splitlines() == [
        f"error: no web event day file between 2020-01-01 and 2020-01-31 in {events} "
        f"(it holds 30 day file(s), 2026-10-22 to 2026-11-20)"]
    with open_instance(dirs) as instance:
        assert not instance.get_runs()  # nothing was started
    assert not dirs.warehouse.exists()
