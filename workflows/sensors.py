"""Sensors: start a nightly run when landing files are complete (each file once, by path, size and
mtime), and write a short summary of every failed scheduled or sensor run to REPORT_DIR."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from workflows.instance import fail_orphaned_runs_for
from workflows.jobs import nightly_job
from workflows.pipeline_config import load_pipeline_config
from workflows.progress import failure_lines, message_lines
from workflows.settings import Settings

_config = load_pipeline_config()
LANDING_PATTERNS = ("crm/*.csv", "web/events/*.jsonl")
FAILURE_SUMMARY_FILE = "last_failure.txt"
# Runs started without a person watching: the schedule and the sensors (Dagster's own tags, and ours).
AUTOMATED_TRIGGERS = {"schedule", "landing_sensor"}
AUTOMATED_TAGS = ("dagster/schedule_name", "dagster/sensor_name")


# ---- landing sensor -------------------------------------------------------------------------------

def landing_fingerprints(landing: Path) -> dict[str, str]:
    """Relative path -> "size:mtime_ns" for every landing file (a stat per file, no reads)."""
    found: dict[str, str] = {}
    for pattern in LANDING_PATTERNS:
        for path in sorted(landing.glob(pattern)):
            stat = path.stat()
            found[path.relative_to(landing).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


@dataclass(frozen=True)
class LandingCursor:
    """What the sensor remembers between ticks: `counted` = the fingerprint each file had when it last
    triggered a run (or at the first tick), `seen` = every file's fingerprint at the previous tick."""

    counted: dict[str, str]
    seen: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> "LandingCursor":
        data = json.loads(text)
        if "counted" not in data:  # the cursor of the previous version: only what had triggered
            return cls(counted=data, seen=data)
        return cls(counted=data["counted"], seen=data["seen"])

    def dumps(self) -> str:
        return json.dumps({"counted": self.counted, "seen": self.seen}, sort_keys=True)


def new_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or changed since `previous`."""
    return sorted(name for name, print_ in current.items() if previous.get(name) != print_)


def settled_files(cursor: LandingCursor, current: dict[str, str]) -> tuple[list[str], list[str]]:
    """(ready, settling): new or changed files whose size and mtime are the same as at the previous
    tick (a copy in progress changes them, so a file counts only once it stood still for a whole
    interval), and those that changed since the previous tick."""
    changed = new_files(cursor.counted, current)
    ready = [name for name in changed if cursor.seen.get(name) == current[name]]
    return ready, [name for name in changed if name not in ready]


def next_cursor(cursor: LandingCursor, current: dict[str, str], ready: list[str]) -> LandingCursor:
    """Files that triggered now are counted at their current fingerprint; others keep theirs (so a
    settling file triggers once it settles). Files gone from the landing folder are forgotten."""
    counted = {name: current[name] if name in ready else cursor.counted[name]
               for name in current if name in ready or name in cursor.counted}
    return LandingCursor(counted=counted, seen=dict(current))


def _preview(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


@sensor(
    name="landing_files_sensor",
    job=nightly_job,
    minimum_interval_seconds=_config.sensor_interval_s,
    default_status=DefaultSensorStatus.RUNNING if _config.sensor_enabled else DefaultSensorStatus.STOPPED,
    description="Starts the nightly job when new or changed files appear in LANDING_DIR "
    "(crm/*.csv, web/events/*.jsonl) and have stopped changing: a file counts once its size and mtime "
    "are the same at two ticks in a row, and a run starts once no file is still changing (a file "
    "still being copied, or the rest of a drop, is waited for). The cursor remembers each file's size "
    "and mtime, so a file triggers once.",
)
def landing_files_sensor(context: SensorEvaluationContext):
    landing = Settings.from_env().landing_dir
    if not landing.is_dir():
        return SkipReason(f"landing folder {landing} does not exist")
    current = landing_fingerprints(landing)
    if not context.cursor:
        # First tick: the files already here were loaded by `make run` or the schedule; remember them.
        context.update_cursor(LandingCursor(counted=current, seen=current).dumps())
        return SkipReason(f"first tick: recorded {len(current)} files already in {landing}; new ones will start a run")
    cursor = LandingCursor.parse(context.cursor)
    ready, settling = settled_files(cursor, current)
    if settling:
        # Files land in sets (a CRM snapshot is several files): run once the whole drop has landed,
        # not on the first complete file next to half-copied ones. Ready files stay uncounted till then.
        context.update_cursor(next_cursor(cursor, current, []).dumps())
        return SkipReason(f"waiting for {len(settling)} file(s) to stop changing: {_preview(settling)}")
    context.update_cursor(next_cursor(cursor, current, ready).dumps())
    if not ready:
        return SkipReason(f"no new files in {landing}")
    # A killed run would keep the one run slot: the requested run would queue for good.
    fail_orphaned_runs_for(context, nightly_job.name, reporter="landing_files_sensor")
    run_key = hashlib.sha256(json.dumps({n: current[n] for n in ready}, sort_keys=True).encode()).hexdigest()[:16]
    return RunRequest(run_key=f"landing-{run_key}", tags={"trigger": "landing_sensor", "new_files": _preview(ready)[:200]})


# ---- failure summary ------------------------------------------------------------------------------

def is_automated(tags: dict[str, str]) -> bool:
    """Whether a run was started by the schedule or a sensor (nobody watching its output)."""
    return tags.get("trigger") in AUTOMATED_TRIGGERS or any(tag in tags for tag in AUTOMATED_TAGS)


def _first_line_with_more(lines: list[str]) -> str:
    """The error's first line, and how many more there are. A first line that only announces a list
    ("landing files cannot be loaded:") gets the list's first item, which is what says what is wrong."""
    head, rest = lines[0], lines[1:]
    if head.endswith(":") and rest:
        head, rest = f"{head} {rest[0]}", rest[1:]
    return head + (f" (+{len(rest)} more line(s))" if rest else "")


def failure_summary(instance, run_id: str) -> str:
    """A few lines on a failed run: its id, trigger, each failed step with the first line of its error
    (or the run's own failure message when no step failed, e.g. a killed process), and where to look."""
    run = instance.get_run_by_id(run_id)
    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}).records
    events = [r.event_log_entry for r in records]
    failed_at = dt.datetime.fromtimestamp(events[-1].timestamp, dt.timezone.utc) if events else None
    trigger = run.tags.get("dagster/schedule_name") or run.tags.get("dagster/sensor_name") or run.tags.get("trigger", "?")
    lines = [f"Run {run_id} of job {run.job_name} failed"
             + (f" at {failed_at:%Y-%m-%d %H:%M:%S} UTC" if failed_at else "") + f" (started by {trigger})."]
    steps = [e for e in events if e.dagster_event.event_type == DagsterEventType.STEP_FAILURE]
    if steps:
        lines.append(f"Failed step(s): {', '.join(e.step_key for e in steps)}")
        lines += [f"  {e.step_key}: {_first_line_with_more(failure_lines(e.dagster_event.step_failure_data))}"
                  for e in steps]
    else:
        run_failures = [e for e in events if e.dagster_event.event_type == DagsterEventType.RUN_FAILURE]
        message = run_failures[-1].dagster_event.message if run_failures else "no failure event was recorded"
        lines.append(f"No step failed; the run did: {_first_line_with_more(message_lines(message))}")
    lines.append(f"Where to look: the Dagster UI (`make ui`) -> Runs -> {run_id[:8]} for the full error and logs; "
                 f"run storage in {instance.root_directory}.")
    return "\n".join(lines) + "\n"


def write_failure_summary(report_dir: Path, text: str) -> Path:
    """Replace REPORT_DIR/last_failure.txt atomically (a reader never sees half a summary)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / FAILURE_SUMMARY_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


@run_failure_sensor(
    name="run_failure_summary_sensor",
    monitored_jobs=[nightly_job],
    default_status=DefaultSensorStatus.RUNNING,
    description=f"Writes a short summary of a failed scheduled or sensor run of the nightly job (run id, "
    f"failed steps, the error's first line, where to look) to REPORT_DIR/{FAILURE_SUMMARY_FILE}.",
)
def run_failure_summary_sensor(context: RunFailureSensorContext):
    run = context.dagster_run
    if not is_automated(run.tags):
        return SkipReason(f"run {run.run_id[:8]} was started by hand; its output showed the error")
    path = write_failure_summary(Settings.from_env().report_dir, failure_summary(context.instance, run.run_id))
    context.log.info(f"wrote {path}")
    return None
