"""Schedule, landing sensor, pipeline config and the CLI's argument errors: real Dagster evaluation
contexts over real folders."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import zoneinfo

import pytest
from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, build_sensor_context

from assets.config_files import ConfigError
from workflows.pipeline_config import load_pipeline_config
from workflows.schedules import data_date_for, nightly_schedule
from workflows.sensors import landing_files_sensor
from workflows.settings import REPO_ROOT


def test_schedule_tags_the_run_with_yesterday_in_its_time_zone():
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    with DagsterInstance.ephemeral() as instance:
        tick = dt.datetime(2026, 11, 24, 2, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
        request = nightly_schedule.evaluate_tick(build_schedule_context(instance, scheduled_execution_time=tick))
    run = request.run_requests[0]
    assert run.tags["data_date"] == "2026-11-23" and run.run_key == "nightly-2026-11-23"
    assert data_date_for(dt.datetime(2026, 1, 1, 2), 1) == dt.date(2025, 12, 31)


def test_landing_sensor_records_existing_files_then_triggers_once_per_new_file(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "web" / "events").mkdir(parents=True)
    (landing / "crm").mkdir()
    (landing / "crm" / "accounts.csv").write_text("account_id\n1\n")
    monkeypatch.setenv("LANDING_DIR", str(landing))
    with DagsterInstance.ephemeral() as instance:
        first = build_sensor_context(instance=instance)
        assert isinstance(landing_files_sensor(first), SkipReason)  # baseline: files already there
        cursor = first.cursor
        assert "crm/accounts.csv" in json.loads(cursor)

        (landing / "web" / "events" / "2026-11-23.jsonl").write_text("{}\n")
        second = build_sensor_context(instance=instance, cursor=cursor)
        request = landing_files_sensor(second)
        assert isinstance(request, RunRequest) and "2026-11-23.jsonl" in request.tags["new_files"]

        third = build_sensor_context(instance=instance, cursor=second.cursor)
        assert isinstance(landing_files_sensor(third), SkipReason)  # the same file does not trigger twice

        time.sleep(0.01)
        (landing / "crm" / "accounts.csv").write_text("account_id\n1\n2\n")  # changed: triggers again
        fourth = build_sensor_context(instance=instance, cursor=third.cursor)
        assert isinstance(landing_files_sensor(fourth), RunRequest)


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
