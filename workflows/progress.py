"""Stage-by-stage progress for command-line runs: one line per step and per failed check."""
from __future__ import annotations

import logging
import sys
import time

from dagster import DagsterEventType, logger


class ProgressHandler(logging.Handler):
    """Turns Dagster's structured events into short lines on stderr."""

    def __init__(self, stream=None):
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}

    def say(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            message = record.getMessage()
            if "Not executing" in message:
                self.say(f"  - {step} skipped (an upstream step or blocking check failed)")
            elif record.levelno >= logging.WARNING:
                self.say(f"  ! {step}: {message.split(' - ')[-1]}".rstrip())
            return
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            self.started[step] = time.monotonic()
            self.say(f"  … {step}")
        elif kind == DagsterEventType.STEP_SUCCESS:
            took = time.monotonic() - self.started.get(step, time.monotonic())
            self.say(f"  ✓ {step} ({took:.1f}s)")
        elif kind == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error if event.step_failure_data else None
            message = (error.message.strip().splitlines() or ["(no message)"])[-1] if error else "failed"
            self.say(f"  ✗ {step}: {message}")
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            if not data.passed:
                severity = data.severity.value if data.severity else "ERROR"
                self.say(f"  ! check {data.check_name} on {data.asset_key.to_user_string()} failed ({severity})")


@logger(description="Short progress lines for the command line.")
def progress_logger(_init_context):
    log = logging.getLogger("segmentation.progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not log.handlers:
        log.addHandler(ProgressHandler())
    return log
