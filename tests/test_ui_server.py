"""`python -m workflows.ui_server` (what `make ui` runs) on a fresh DAGSTER_HOME: it prepares the
instance before `dagster dev` starts, serves the UI, and SIGTERM stops it with every process of it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from workflows.instance import process_alive
from workflows.settings import REPO_ROOT
from workflows.ui_server import DagsterDev, _reset_sigint, descendants, free_port


def test_ui_server_prepares_a_fresh_instance_and_stops_cleanly(tmp_path):
    home, port = tmp_path / "dagster", free_port()
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, DAGSTER_HOME=str(home), TMPDIR=str(tmp_path / "tmp"))
    log = open(tmp_path / "ui.log", "ab")  # noqa: SIM115 - closed by DagsterDev.stop
    process = subprocess.Popen([sys.executable, "-m", "workflows.ui_server", "--port", str(port)], cwd=REPO_ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True, preexec_fn=_reset_sigint)
    server = DagsterDev(process=process, host="127.0.0.1", port=port, log_path=tmp_path / "ui.log", _log=log)
    try:
        server.wait_ready()
        for created in ("dagster.yaml", "history/runs.db", "schedules/schedules.db"):
            assert (home / created).exists(), created
        children, seen = descendants(process.pid), time.time()
        assert children, "dagster dev runs below the wrapper"
    finally:
        os.kill(process.pid, signal.SIGTERM)  # the wrapper stops dagster dev's own process group
        returncode = process.wait(timeout=60)
        log.close()
    assert returncode == 0, server.log_tail()
    deadline = time.monotonic() + 10
    while (left := [pid for pid in children if process_alive(pid, seen)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes of dagster dev left running: {left}\n{server.log_tail()}"

