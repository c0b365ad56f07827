"""`config/pipeline.yaml`: when the nightly job runs, the landing sensor and ingestion retries."""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from dagster._utils.schedules import is_valid_cron_string

from assets.config_files import ConfigError, load_yaml, require


@dataclass(frozen=True)
class PipelineConfig:
    cron: str
    timezone: str
    data_date_lag_days: int
    schedule_enabled: bool
    sensor_enabled: bool
    sensor_interval_s: int
    max_retries: int
    retry_delay_s: int


def load_pipeline_config(config_dir: Path | None = None) -> PipelineConfig:
    path, data = load_yaml("pipeline.yaml", config_dir)
    schedule = require(data, "schedule", dict, path)
    cron = require(schedule, "cron", str, path, "schedule")
    if not is_valid_cron_string(cron):
        raise ConfigError(path, "schedule.cron", f"{cron!r} is not a valid cron line (e.g. \"0 2 * * *\")")
    timezone = require(schedule, "timezone", str, path, "schedule")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(path, "schedule.timezone", f"{timezone!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
    lag = require(schedule, "data_date_lag_days", int, path, "schedule")
    sensor = require(data, "landing_sensor", dict, path)
    retries = require(data, "retries", dict, path)
    return PipelineConfig(
        cron=cron,
        timezone=timezone,
        data_date_lag_days=lag,
        schedule_enabled=require(schedule, "enabled", bool, path, "schedule") if "enabled" in schedule else True,
        sensor_enabled=require(sensor, "enabled", bool, path, "landing_sensor"),
        sensor_interval_s=require(sensor, "minimum_interval_seconds", int, path, "landing_sensor"),
        max_retries=require(retries, "max_retries", int, path, "retries"),
        retry_delay_s=require(retries, "delay_seconds", int, path, "retries"),
    )
