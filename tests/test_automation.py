"""Schedule, landing sensor, run failure summary, pipeline config and the CLI's errors: real Dagster
evaluation contexts over real folders, real (failing) runs in tmp_path instances."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
)
from dagster._core.instance.ref import InstanceRef

from assets.config_files import ConfigError
from workflows.instance import ensure_instance
from workflows.pipeline_config import load_pipeline_config
from workflows.schedules import data_date_for, nightly_schedule
from workflows.sensors import is_automated, landing_files_sensor, landing_fingerprints, run_failure_summary_sensor
from workflows.settings import REPO_ROOT


def test_schedule_tags_the_run_with_yesterday_in_its_time_zone():
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    with DagsterInstance.ephemeral() as instance:
        tick = dt.datetime(2026, 11, 24, 2, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
        request = nightly_schedule.evaluate_tick(build_schedule_context(instance, scheduled_execution_time=tick))
    run = request.run_requests[0]
    assert run.tags["data_date"] == "2026-11-23" and run.run_key == "nightly-2026-11-23"
    assert data_date_for(dt.datetime(2026, 1, 1, 2), 1) == dt.date(2025, 12, 31)


def tick(instance: DagsterInstance, cursor: str | None):
    """One evaluation of the landing sensor with `cursor`: (its result, the cursor it leaves)."""
    context = build_sensor_context(instance=instance, cursor=cursor)
    return landing_files_sensor(context), context.cursor


def test_landing_sensor_records_existing_files_then_triggers_once_per_settled_file(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "web" / "events").mkdir(parents=True)
    (landing / "crm").mkdir()
    (landing / "crm" / "accounts.csv").write_text("account_id\n1\n")
    monkeypatch.setenv("LANDING_DIR", str(landing))
    day = landing / "web" / "events" / "2026-11-23.jsonl"
    with DagsterInstance.ephemeral() as instance:
        result, cursor = tick(instance, None)
        assert isinstance(result, SkipReason) and "first tick" in result.skip_message  # baseline
        assert "crm/accounts.csv" in json.loads(cursor)["counted"]

        day.write_text('{"messageId": "m1"}\n')  # a copy starts...
        result, cursor = tick(instance, cursor)
        assert isinstance(result, SkipReason) and "waiting for 1 file(s) to stop changing" in result.skip_message
        with day.open("a") as partial:  # ...and is still going at the next tick
            partial.write('{"messageId": "m2"}\n')
        result, cursor = tick(instance, cursor)
        assert isinstance(result, SkipReason) and "2026-11-23.jsonl" in result.skip_message

        result, cursor = tick(instance, cursor)  # unchanged since the previous tick: complete
        assert isinstance(result, RunRequest) and result.tags["new_files"] == "web/events/2026-11-23.jsonl"
        result, cursor = tick(instance, cursor)
        assert isinstance(result, SkipReason) and "no new files" in result.skip_message  # once

        time.sleep(0.01)
        (landing / "crm" / "accounts.csv").write_text("account_id\n1\n2\n")  # changed: settles, then triggers
        result, cursor = tick(instance, cursor)
        assert isinstance(result, SkipReason) and "crm/accounts.csv" in result.skip_message
        result, cursor = tick(instance, cursor)
        assert isinstance(result, RunRequest) and result.tags["new_files"] == "crm/accounts.csv"


def test_landing_sensor_waits_for_the_whole_drop(tmp_path, monkeypatch):
    """A complete CRM file next to one still being copied does not start a run on a half-new snapshot."""
    crm = tmp_path / "landing" / "crm"
    crm.mkdir(parents=True)
    monkeypatch.setenv("LANDING_DIR", str(tmp_path / "landing"))
    with DagsterInstance.ephemeral() as instance:
        _, cursor = tick(instance, None)
        (crm / "accounts.csv").write_text("account_id\n1\n")
        (crm / "contacts.csv").write_text("contact_id\n")
        _, cursor = tick(instance, cursor)
        with (crm / "contacts.csv").open("a") as partial:  # accounts.csv is complete, contacts.csv is not
            partial.write("c1\n")
        result, cursor = tick(instance, cursor)
        assert isinstance(result, SkipReason) and result.skip_message.endswith(": crm/contacts.csv")
        result, cursor = tick(instance, cursor)
        assert isinstance(result, RunRequest) and result.tags["new_files"] == "crm/accounts.csv, crm/contacts.csv"


def test_landing_sensor_reads_the_previous_cursor_format(tmp_path, monkeypatch):
    """A cursor written before files had to settle (a flat path -> fingerprint map) still counts its files."""
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)
    (landing / "crm" / "accounts.csv").write_text("account_id\n1\n")
    monkeypatch.setenv("LANDING_DIR", str(landing))
    with DagsterInstance.ephemeral() as instance:
        old_cursor = json.dumps(landing_fingerprints(landing))
        result, cursor = tick(instance, old_cursor)
        assert isinstance(result, SkipReason) and "no new files" in result.skip_message
        assert json.loads(cursor)["counted"] == json.loads(old_cursor)


def test_landing_sensor_skips_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDING_DIR", str(tmp_path / "nowhere"))
    with DagsterInstance.ephemeral() as instance:
        assert isinstance(landing_files_sensor(build_sensor_context(instance=instance)), SkipReason)


@pytest.mark.parametrize(
    "edit, where",
    [
        (('cron: "0 2 * * *"', 'cron: "every night"'), "schedule.cron"),
        (('"UTC"', '"Mars/Olympus"'), "schedule.timezone"),
        (("enabled: true\n\nlanding", "enabled: maybe\n\nlanding"), "schedule.enabled"),
    ],
)
def test_pipeline_config_errors_name_the_key(tmp_path, edit, where):
    text = (REPO_ROOT / "config" / "pipeline.yaml").read_text()
    assert edit[0] in text
    (tmp_path / "pipeline.yaml").write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_pipeline_config(tmp_path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--data-date", "yesterday"], "--data-date: 'yesterday' is not a date"),
        (["backfill", "--start", "2026-11-05", "--end", "2026-11-01"], "is before --start"),
    ],
)
def test_cli_rejects_bad_dates_with_one_line(args, message, tmp_path):
    env = {**os.environ, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "DAGSTER_HOME": str(tmp_path / "dh")}
    done = subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


# ---- errors: one line each --------------------------------------------------------------------------

def cli(tmp_path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """`python -m workflows.cli ARGS` with every pipeline path under tmp_path."""
    env = {**os.environ, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "DAGSTER_HOME": str(tmp_path / "dh"),
           "LANDING_DIR": str(tmp_path / "landing"), "EXPORT_DIR": str(tmp_path / "exports"),
           "REPORT_DIR": str(tmp_path / "reports"), "TMPDIR": str(tmp_path), **env_overrides}
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr from the first `error:` on (what the user reads as the error)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("error:")]
    return lines[starts[0]:] if starts else []


def test_cli_reports_an_invalid_cron_in_one_line(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    text = (config / "pipeline.yaml").read_text()
    (config / "pipeline.yaml").write_text(text.replace('cron: "0 2 * * *"', 'cron: "every night"', 1))
    done = cli(tmp_path, "run", SEGMENTATION_CONFIG_DIR=str(config))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        f"error: {config / 'pipeline.yaml'}: schedule.cron: 'every night' is not a valid cron line (e.g. \"0 2 * * *\")"]


def test_cli_reports_a_broken_dagster_yaml_in_one_line_and_saves_the_traceback(tmp_path):
    (tmp_path / "dh").mkdir()
    (tmp_path / "dh" / "dagster.yaml").write_text("run_monitoring:\n  enabled: true\n  every_minute: 1\n")
    done = cli(tmp_path, "run")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    first, where = error_lines(done.stderr)
    assert first.startswith(f"error: {tmp_path / 'dh' / 'dagster.yaml'}: ") and '"every_minute"' in first
    saved = tmp_path / "reports" / "last_cli_error.txt"
    assert where == f"  full traceback: {saved}" and "Traceback" in saved.read_text()


def test_make_setup_reports_a_broken_dagster_yaml_in_one_line(tmp_path):
    """`make setup` prepares the instance (`python -m workflows.instance HOME`), which opens it: a
    broken dagster.yaml is one line naming the file and the problem, not a traceback."""
    (tmp_path / "dh").mkdir()
    (tmp_path / "dh" / "dagster.yaml").write_text("run_monitoring:\n  enabled: true\n  every_minute: 1\n")
    done = subprocess.run([sys.executable, "-m", "workflows.instance", str(tmp_path / "dh")], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'dh' / 'dagster.yaml'}: ") and '"every_minute"' in line


def bad_landing(root: Path) -> Path:
    """A landing folder two steps reject at once: two misnamed web event files, no CRM files."""
    events = root / "landing" / "web" / "events"
    events.mkdir(parents=True)
    (root / "landing" / "crm").mkdir()
    (events / "today.jsonl").write_text('{"messageId": "m1"}\n')
    (events / "2026-11-31.jsonl").write_text('{"messageId": "m2"}\n')
    return root / "landing"


def test_cli_progress_prints_every_problem_of_a_failed_step(tmp_path):
    landing = bad_landing(tmp_path)
    done = cli(tmp_path, "run")
    assert done.returncode == 1 and "FAILED" in done.stdout
    lines = done.stderr.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("  ✗ raw__web_events:")]
    assert lines[start] == "  ✗ raw__web_events: landing files cannot be loaded:"
    problems = []
    for line in lines[start + 1:]:
        if not line.startswith("      "):
            break
        problems.append(line.strip())
    # every bad file on its own line under the failed step, not only the last one
    events, crm = landing / "web" / "events", landing / "crm"
    for bad in (events / "2026-11-31.jsonl", events / "today.jsonl"):
        assert any(p.startswith(f"{bad}: not a day file") for p in problems), problems
    missing = [p for p in done.stderr.splitlines() if "required file is missing" in p]
    for entity in ("accounts", "contacts", "opportunities", "subscriptions"):
        assert any(p.strip().startswith(f"{crm / entity}.csv: ") for p in missing), missing


# ---- run failure summary --------------------------------------------------------------------------

def test_a_failed_scheduled_run_writes_its_summary(tmp_path, monkeypatch):
    landing = bad_landing(tmp_path)
    for name, value in {"LANDING_DIR": landing, "WAREHOUSE_PATH": tmp_path / "w.duckdb", "EXPORT_DIR": tmp_path / "e",
                        "REPORT_DIR": tmp_path / "reports"}.items():
        monkeypatch.setenv(name, str(value))
    ensure_instance(tmp_path / "dh")
    from workflows.definitions import defs

    with DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path / "dh"))) as instance:
        result = defs.resolve_job_def("nightly").execute_in_process(
            instance=instance, raise_on_error=False,
            tags={"trigger": "schedule", "dagster/schedule_name": "nightly_schedule"})
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE]

        def evaluate(dagster_run):
            context = build_run_status_sensor_context(
                sensor_name="run_failure_summary_sensor", dagster_event=failure, dagster_instance=instance,
                dagster_run=dagster_run).for_run_failure()
            return run_failure_summary_sensor(context)

        by_hand = evaluate(run.with_tags({"trigger": "cli"}))
        assert isinstance(by_hand, SkipReason) and not (tmp_path / "reports" / "last_failure.txt").exists()

        assert evaluate(run) is None
    lines = (tmp_path / "reports" / "last_failure.txt").read_text().splitlines()
    assert lines[0].startswith(f"Run {run.run_id} of job nightly failed at ") and "(started by nightly_schedule)" in lines[0]
    assert lines[1] == "Failed step(s): raw__web_events, raw_crm" or lines[1] == "Failed step(s): raw_crm, raw__web_events"
    for step in ("raw__web_events", "raw_crm"):  # each failed step with its error's first line
        assert any(re.fullmatch(rf"  {step}: landing files cannot be loaded: /\S+: .+ \(\+\d+ more line\(s\)\)", line)
                   for line in lines), lines
    assert lines[-1].startswith(f"Where to look: the Dagster UI (`make ui`) -> Runs -> {run.run_id[:8]}")
    assert str(tmp_path / "dh") in lines[-1]
    assert is_automated({"dagster/sensor_name": "landing_files_sensor"}) and not is_automated({"trigger": "cli"})
