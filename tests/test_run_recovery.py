"""Runs whose process is killed: the instance's run monitoring settings, and `fail_orphaned_runs`
marking a run left STARTED by a SIGKILLed process as failed (real Dagster instances in tmp_path, real
processes killed for real; the whole-pipeline version is in test_cli_end_to_end.py)."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
    build_schedule_context,
    job,
    op,
)
from dagster._core.instance.ref import InstanceRef

from workflows.instance import (
    DAGSTER_YAML,
    HOST_TAG,
    PID_TAG,
    ensure_instance,
    fail_orphaned_runs,
    process_alive,
)
from workflows.schedules import nightly_schedule
from workflows.settings import REPO_ROOT

# A tiny job whose only op SIGKILLs its own process mid-run, as the OOM killer or `kill -9` would.
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from dagster import DagsterInstance, job, op
    from dagster._core.instance.ref import InstanceRef
    from workflows.instance import run_process_tags

    @op
    def work():
        os.kill(os.getpid(), signal.SIGKILL)

    @job(name=sys.argv[3])
    def tiny():
        work()

    instance = DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1]))
    tags = run_process_tags() if sys.argv[2] == "tagged" else {}
    tiny.execute_in_process(instance=instance, tags=tags)
""")


def open_instance(home: Path) -> DagsterInstance:
    """The persistent instance in `home` (as `DAGSTER_HOME=home` would give)."""
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def killed_run(home: Path, tagged: bool, job_name: str = "tiny") -> str:
    """Run a tiny job named `job_name` in a subprocess that gets SIGKILLed mid-run; the run id it left."""
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, str(home), "tagged" if tagged else "untagged", job_name],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    with open_instance(home) as instance:
        (run,) = instance.get_runs(RunsFilter(job_name=job_name))
        return run.run_id


def test_a_new_instance_has_run_monitoring_on(tmp_path):
    config = ensure_instance(tmp_path / "home")
    assert config.read_text() == DAGSTER_YAML
    with open_instance(tmp_path / "home") as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_runtime_seconds == 21600
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_max_resume_run_attempts == 0
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1


def test_an_older_instance_gets_run_monitoring_added_and_keeps_its_edits(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    older = "# my edit\nconcurrency:\n  runs:\n    max_concurrent_runs: 2\ntelemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(older)
    text = ensure_instance(home).read_text()
    assert text.startswith(older) and "run_monitoring:" in text
    with open_instance(home) as instance:
        assert instance.run_monitoring_enabled
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2
    ensure_instance(home)
    assert (home / "dagster.yaml").read_text() == text  # added once; a user's own block is never touched


# What `dagster dev` and a nightly run do on start: prepare DAGSTER_HOME, open it, read the runs.
OPEN_FRESH_HOME = textwrap.dedent("""
    import sys
    from pathlib import Path
    from dagster import DagsterInstance, RunsFilter
    from workflows.instance import ensure_instance

    ensure_instance(Path(sys.argv[1]))
    with DagsterInstance.from_config(sys.argv[1]) as instance:
        instance.get_run_records(RunsFilter(job_name="nightly"))
        instance.all_instigator_state()
""")


def test_processes_opening_a_fresh_instance_at_once_all_succeed(tmp_path):
    """Dagster's SQLite storages create their tables on first open with no guard against a second
    process: opened at once, some fail ("table alembic_version already exists", "database is locked"),
    or two alembic heads are left behind. ensure_instance creates the storage first, under a lock."""
    for attempt in range(3):  # the race, when unguarded, is lost in most rounds of 4 processes
        home = tmp_path / f"home{attempt}"
        starts = [subprocess.Popen([sys.executable, "-c", OPEN_FRESH_HOME, str(home)], cwd=REPO_ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(4)]
        outputs = [(start.wait(timeout=120), start.stdout.read()) for start in starts]
        assert [code for code, _ in outputs] == [0] * 4, "\n".join(out[-1500:] for code, out in outputs if code)
        for db in ("history/runs.db", "schedules/schedules.db", "history/runs/index.db"):
            with sqlite3.connect(home / db) as con:
                assert con.execute("select count(*) from alembic_version").fetchone() == (1,), db


@pytest.mark.parametrize("tagged", [True, False], ids=["cli-tags", "engine-event-pid"])
def test_a_run_left_started_by_a_killed_process_is_marked_failed(tmp_path, tagged):
    home = tmp_path / "home"
    ensure_instance(home)
    run_id = killed_run(home, tagged)
    with open_instance(home) as instance:
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED  # what blocked the queue

        marked = fail_orphaned_runs(instance, "tiny", reporter="the test")
        assert [m.run_id for m in marked] == [run_id] and marked[0].status == "STARTED"
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
        (failure,) = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
        message = failure.event_log_entry.dagster_event.message
        assert f"pid {marked[0].pid}" in message and "is gone" in message and "the test" in message

        assert fail_orphaned_runs(instance, "tiny", reporter="the test") == []  # once
        assert fail_orphaned_runs(instance, "another_job", reporter="the test") == []


def test_a_live_run_and_other_hosts_runs_are_left_alone(tmp_path):
    seen: dict[str, list] = {}

    @op
    def look(context):
        # this run is STARTED and its process (this one) is alive
        seen["live"] = fail_orphaned_runs(context.instance, "looking", reporter="the test")

    @job
    def looking():
        look()

    home = tmp_path / "home"
    ensure_instance(home)
    with open_instance(home) as instance:
        assert looking.execute_in_process(instance=instance, tags={HOST_TAG: "elsewhere", PID_TAG: "1"}).success
        assert seen["live"] == []
    run_id = killed_run(home, tagged=True)
    with open_instance(home) as instance:
        instance.add_run_tags(run_id, {HOST_TAG: "another-machine"})  # its pid means nothing here
        assert fail_orphaned_runs(instance, "tiny", reporter="the test") == []
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED


def test_process_alive_tells_a_dead_or_reused_pid_from_the_live_process(tmp_path):
    before = time.time() - 60
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert process_alive(sleeper.pid, since=time.time())
        assert not process_alive(sleeper.pid, since=before)  # started after `since`: the pid was reused
        sleeper.kill()
        os.waitid(os.P_PID, sleeper.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped: a zombie
        assert not process_alive(sleeper.pid, since=time.time())
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not process_alive(sleeper.pid, since=time.time())


def test_the_schedule_cleans_up_before_it_requests_a_run(tmp_path):
    """With the daemon, no command line runs: the schedule tick itself frees the slot a killed run holds."""
    home = tmp_path / "home"
    ensure_instance(home)
    run_id = killed_run(home, tagged=True, job_name="nightly")
    with open_instance(home) as instance:
        tick = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)
        nightly_schedule.evaluate_tick(build_schedule_context(instance, scheduled_execution_time=tick))
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
        (failure,) = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
        assert "nightly_schedule" in failure.event_log_entry.dagster_event.message


def test_a_command_line_run_waits_for_a_live_run_of_the_job(tmp_path):
    """A run in progress (here: a real run of a job named like ours, in another thread) is waited for,
    reported once, and the wait ends when that run finishes."""
    import threading

    from workflows.instance import wait_for_runs_in_progress

    home = tmp_path / "home"
    ensure_instance(home)
    release = threading.Event()

    @op
    def busy():
        release.wait(30)

    @job(name="nightly_like")
    def other():
        busy()

    with open_instance(home) as instance:
        worker = threading.Thread(target=lambda: other.execute_in_process(instance=instance))
        worker.start()
        deadline = time.monotonic() + 30
        while not instance.get_runs(RunsFilter(job_name="nightly_like", statuses=[DagsterRunStatus.STARTED])):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        said = []
        threading.Timer(1.0, release.set).start()
        wait_for_runs_in_progress(instance, "nightly_like", say=said.append, poll_s=0.1)
        worker.join(30)
        (run,) = instance.get_runs(RunsFilter(job_name="nightly_like"))
        assert run.status == DagsterRunStatus.SUCCESS
        assert len(said) == 1 and said[0].startswith(f"Waiting for run {run.run_id[:8]} (STARTED)")
        wait_for_runs_in_progress(instance, "nightly_like", say=said.append, timeout_s=0)  # none left: no wait
        with pytest.raises(TimeoutError):  # a run that outlasts the wait is one clear error
            release.clear()
            worker = threading.Thread(target=lambda: other.execute_in_process(instance=instance))
            worker.start()
            while not instance.get_runs(RunsFilter(job_name="nightly_like", statuses=[DagsterRunStatus.STARTED])):
                time.sleep(0.05)
            try:
                wait_for_runs_in_progress(instance, "nightly_like", say=said.append, timeout_s=0.3, poll_s=0.1)
            finally:
                release.set()
                worker.join(30)
