"""The one Definitions object: every asset, check, job, schedule, sensor and resource."""
from __future__ import annotations

from dagster import Definitions, load_asset_checks_from_package_module, load_assets_from_package_module

import assets
import data_quality
from workflows.jobs import nightly_job
from workflows.resources import resources_from_settings
from workflows.schedules import nightly_schedule
from workflows.sensors import landing_files_sensor

defs = Definitions(
    assets=load_assets_from_package_module(assets),
    asset_checks=load_asset_checks_from_package_module(data_quality),
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[landing_files_sensor],
    resources=resources_from_settings(),
)
