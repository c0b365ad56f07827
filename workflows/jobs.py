"""Jobs. The nightly job materialises every asset in one process: DuckDB allows one writer."""
from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

nightly_job = define_asset_job(
    name="nightly",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Land CRM and web files, stage, segment, check, build audiences, publish exports, read out.",
)
