"""The one Definitions object: every asset, check, job, schedule, sensor and resource."""
from __future__ import annotations

from dagster import (
    AssetSpec,
    Definitions,
    load_asset_checks_from_package_module,
    load_assets_from_package_module,
    map_asset_specs,
)

import assets
import data_quality
from workflows.jobs import nightly_job
from workflows.resources import resources_from_settings
from workflows.schedules import nightly_schedule
from workflows.sensors import landing_files_sensor, run_failure_summary_sensor

# Who to ask about a layer (shown as owners in the UI): data people own the warehouse layers,
# marketing ops the audiences, exports and readouts they act on.
OWNERS = {
    "raw": "team:data",
    "staging": "team:data",
    "segments": "team:data",
    "audiences": "team:marketing-ops",
    "exports": "team:marketing-ops",
    "readouts": "team:marketing-ops",
}


def with_layer_owner(spec: AssetSpec) -> AssetSpec:
    owner = OWNERS.get(spec.key.path[0])
    return spec.replace_attributes(owners=[owner]) if owner and not spec.owners else spec


defs = Definitions(
    assets=map_asset_specs(with_layer_owner, load_assets_from_package_module(assets)),
    asset_checks=load_asset_checks_from_package_module(data_quality),
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[landing_files_sensor, run_failure_summary_sensor],
    resources=resources_from_settings(),
)
