"""Start a nightly run when new files land: each landing file (by path, size and mtime) triggers once."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from workflows.jobs import nightly_job
from workflows.pipeline_config import load_pipeline_config
from workflows.settings import Settings

_config = load_pipeline_config()
LANDING_PATTERNS = ("crm/*.csv", "web/events/*.jsonl")


def landing_fingerprints(landing: Path) -> dict[str, str]:
    """Relative path -> "size:mtime_ns" for every landing file (a stat per file, no reads)."""
    found: dict[str, str] = {}
    for pattern in LANDING_PATTERNS:
        for path in sorted(landing.glob(pattern)):
            stat = path.stat()
            found[path.relative_to(landing).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


def new_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or changed since the cursor."""
    return sorted(name for name, print_ in current.items() if previous.get(name) != print_)


@sensor(
    name="landing_files_sensor",
    job=nightly_job,
    minimum_interval_seconds=_config.sensor_interval_s,
    default_status=DefaultSensorStatus.RUNNING if _config.sensor_enabled else DefaultSensorStatus.STOPPED,
    description="Starts the nightly job when new or changed files appear in LANDING_DIR "
    "(crm/*.csv, web/events/*.jsonl). The cursor remembers each file's size and mtime, so a file "
    "triggers once.",
)
def landing_files_sensor(context: SensorEvaluationContext):
    landing = Settings.from_env().landing_dir
    if not landing.is_dir():
        return SkipReason(f"landing folder {landing} does not exist")
    current = landing_fingerprints(landing)
    if not context.cursor:
        # First tick: the files already here were loaded by `make run` or the schedule; remember them.
        context.update_cursor(json.dumps(current, sort_keys=True))
        return SkipReason(f"first tick: recorded {len(current)} files already in {landing}; new ones will start a run")
    previous = json.loads(context.cursor)
    changed = new_files(previous, current)
    if not changed:
        return SkipReason(f"no new files in {landing}")
    run_key = hashlib.sha256(json.dumps({n: current[n] for n in changed}, sort_keys=True).encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(current, sort_keys=True))
    preview = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return RunRequest(run_key=f"landing-{run_key}", tags={"trigger": "landing_sensor", "new_files": preview[:200]})
