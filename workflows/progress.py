"""Stage-by-stage progress for command-line runs: one line per step and per failed check; a failed step
prints every line of its error (one per problem)."""
from __future__ import annotations

import logging
import sys
import time

from dagster import DagsterEventType, logger


MAX_FAILURE_LINES = 20  # a failure listing more problems than this ends with a pointer to the UI


def message_lines(text: str | None) -> list[str]:
    """Every non-empty line of an error message, stripped (at least one line; a very long message is
    cut after MAX_FAILURE_LINES with a pointer to the UI)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()] or ["failed (no message)"]
    if len(lines) > MAX_FAILURE_LINES:
        more = len(lines) - MAX_FAILURE_LINES
        lines = lines[:MAX_FAILURE_LINES] + [f"... and {more} more line(s): see the run in the UI"]
    return lines


def failure_lines(data) -> list[str]:
    """Every line of a step failure's message (a LandingFileError lists one bad file per line; all of
    them are the point): a `Failure`'s own description, without the exception class prefix Dagster
    adds; other errors keep their class name."""
    user = getattr(data, "user_failure_data", None)
    error = getattr(data, "error", None)
    return message_lines(user.description if user and user.description else (error.message if error else ""))


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
            first, *rest = failure_lines(event.step_failure_data)
            self.say(f"  ✗ {step}: {first}")
            for line in rest:
                self.say(f"      {line}")
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
