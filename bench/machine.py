"""The machine and code a benchmark ran on: cores, memory, CPU model, versions, git commit."""
from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from workflows.settings import REPO_ROOT

PACKAGES = ("duckdb", "polars", "dagster", "pyarrow", "great-expectations")


def _first_value(path: Path, key: str) -> str | None:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def machine_info() -> dict:
    """Cores, memory, CPU model, OS, Python and package versions (read from metadata, not imported)."""
    mem_kb = _first_value(Path("/proc/meminfo"), "MemTotal")
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_bytes": int(mem_kb.split()[0]) * 1024 if mem_kb else None,
        "cpu_model": _first_value(Path("/proc/cpuinfo"), "model name") or platform.processor() or None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def git_commit() -> dict:
    """HEAD's commit and whether the working tree had uncommitted changes (read-only git commands)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}
