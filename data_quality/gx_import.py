"""Great Expectations, imported once per process: in the background when a run begins.

Importing GX (and the pandas route of data_quality/gx_validate.py) costs ~3 s of one core. A run's
first steps load landing files in DuckDB and leave a core idle part of the time, so the run's
`GreatExpectations` resource (workflows/resources.py) starts the import in a thread when the run
begins, and the first suite check finds GX imported instead of waiting ~3 s for it.

Whoever imports GX calls `wait_for_gx()` first: no two threads ever import it at once (a module that
another thread is still importing can be seen half made).
"""
from __future__ import annotations

import threading

_LOCK = threading.Lock()
_STARTED: list[threading.Thread] = []


def _import_gx() -> None:
    import great_expectations  # noqa: F401
    import great_expectations.expectations  # noqa: F401

    import data_quality.gx_validate  # noqa: F401


def start_gx_import() -> None:
    """Import GX in a background thread (once per process; later calls do nothing). An import that
    fails there fails again, with its error, in the caller of `wait_for_gx()` that imports GX."""
    with _LOCK:
        if _STARTED:
            return
        thread = threading.Thread(target=_import_gx, name="gx-import", daemon=True)
        _STARTED.append(thread)
    thread.start()


def wait_for_gx() -> None:
    """Wait until a background import started by `start_gx_import()` is over (at once if none)."""
    with _LOCK:
        started = list(_STARTED)
    for thread in started:
        thread.join()
