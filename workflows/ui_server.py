"""Start and stop `dagster dev` (webserver + daemon + code server) so that stopping leaves nothing behind.

    python -m workflows.ui_server [--host 127.0.0.1] [--port 3000]     (what `make ui` runs)

Why a wrapper: Dagster gives SIGTERM the SIGINT handler, and a process started in the background of a
non-interactive shell inherits SIGINT as *ignored*, so it then ignores SIGTERM too and its children
hang waiting for it (see ../shared/STACK_NOTES.md). So `dagster dev` is started in its own process
group (its own session) with SIGINT reset to the default, stopped with SIGTERM to the whole group,
and SIGKILLed if the group is still there after a grace period. The browser test uses the same code.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from workflows.instance import ensure_instance
from workflows.settings import REPO_ROOT, Settings


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it; another process could still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def group_processes(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is `pgid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces and brackets
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return sorted(found)


def _reset_sigint() -> None:
    # Runs in the child before exec: an inherited "ignore SIGINT" would make Dagster ignore SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _dagster_command() -> list[str]:
    script = Path(sys.executable).with_name("dagster")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dagster"]


@dataclass
class DagsterDev:
    """A running `dagster dev` in its own process group (`pgid` = the leader's pid)."""

    process: subprocess.Popen
    host: str
    port: int
    log_path: Path | None = None
    _log: IO | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the webserver, e.g. http://127.0.0.1:3000."""
        return f"http://{self.host}:{self.port}"

    @property
    def pgid(self) -> int:
        """The process group every dagster dev process runs in."""
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output (for error messages), if it goes to a file."""
        if self.log_path is None or not self.log_path.exists():
            return "(output not captured)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout_s: float = 120.0) -> dict:
        """Poll `/server_info` until it answers; its JSON. RuntimeError (with the log tail) when the
        process exits first or `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as response:
                    return json.loads(response.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                time.sleep(0.5)
        raise RuntimeError(f"dagster dev did not answer {self.url}/server_info within {timeout_s:.0f}s:\n"
                           f"{self.log_tail()}")

    def stop(self, grace_s: float = 20.0) -> bool:
        """SIGTERM `dagster dev`, which stops its webserver, daemon and code server in order; once it has
        exited, SIGTERM whatever is left of its group; after `grace_s`, SIGKILL. True when the group
        stopped on SIGTERM alone. (SIGTERM to the whole group at once races: the code server exits first
        and dagster dev's proxy manager starts a new one that no signal reaches.)"""
        clean = True
        try:
            os.kill(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        strays_signalled = False
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            self.process.poll()  # reap the leader so it does not linger as a zombie
            if not group_processes(self.pgid):
                break
            if self.process.returncode is not None and not strays_signalled:
                strays_signalled = True
                try:
                    os.killpg(self.pgid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        else:
            clean = False
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            clean = False
        if self._log is not None:
            self._log.close()
        return clean


def start_dagster_dev(
    port: int,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    workspace: str = "workspace.yaml",
    log_path: Path | None = None,
) -> DagsterDev:
    """Start `dagster dev -w <workspace> -h <host> -p <port>` in its own process group.

    `env` is the whole environment (default: this process's); set DAGSTER_HOME and TMPDIR in it (code
    server sockets and a temporary workspace go to TMPDIR). Output goes to `log_path`, else inherited.
    """
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed by DagsterDev.stop
    process = subprocess.Popen(
        [*_dagster_command(), "dev", "-w", workspace, "-h", host, "-p", str(port)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_reset_sigint,
    )
    return DagsterDev(process=process, host=host, port=port, log_path=log_path, _log=log)


def main(argv: list[str] | None = None) -> int:
    """Run dagster dev until Ctrl-C / SIGTERM / SIGHUP, then stop its whole process group."""
    parser = argparse.ArgumentParser(prog="python -m workflows.ui_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    ensure_instance(settings.dagster_home)  # before dagster dev's processes open it at once
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    server = start_dagster_dev(args.port, args.host)
    stopping = []

    def request_stop(signum, _frame):
        stopping.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    try:
        while not stopping and server.process.poll() is None:
            time.sleep(0.3)
    finally:
        print("\nstopping dagster dev (webserver, daemon, code server) ...", file=sys.stderr)
        clean = server.stop()
        if not clean:
            print("dagster dev did not stop on SIGTERM; its processes were killed", file=sys.stderr)
    return 0 if stopping else (server.process.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
