"""The nightly schedule: cron and time zone from `config/pipeline.yaml`."""
from __future__ import annotations

import datetime as dt

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from assets.data_date import DATA_DATE_TAG
from workflows.instance import fail_orphaned_runs_for
from workflows.jobs import nightly_job
from workflows.pipeline_config import load_pipeline_config

_config = load_pipeline_config()


def data_date_for(scheduled: dt.datetime, lag_days: int) -> dt.date:
    """The night a scheduled tick processes: its local calendar day minus the lag (02:00 -> yesterday)."""
    return scheduled.date() - dt.timedelta(days=lag_days)


@schedule(
    name="nightly_schedule",
    cron_schedule=_config.cron,
    execution_timezone=_config.timezone,
    job=nightly_job,
    default_status=DefaultScheduleStatus.RUNNING if _config.schedule_enabled else DefaultScheduleStatus.STOPPED,
    description=f"Runs the nightly job at '{_config.cron}' ({_config.timezone}); the data date is the "
    f"scheduled day minus {_config.data_date_lag_days} day(s). Edit config/pipeline.yaml to change it.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    data_date = data_date_for(context.scheduled_execution_time, _config.data_date_lag_days)
    # A run killed with SIGKILL stays STARTED and keeps the one run slot: tonight's run would queue for
    # good.
    fail_orphaned_runs_for(context, nightly_job.name, reporter="nightly_schedule")
    return RunRequest(
        run_key=f"nightly-{data_date.isoformat()}",
        tags={DATA_DATE_TAG: data_date.isoformat(), "trigger": "schedule"},
    )
