"""Resident memory of a process and all its descendants, sampled from /proc while it runs.

Linux only (reads /proc). The tree is rebuilt on every sample, so children that start and end between
samples are seen if they live longer than the poll interval (~100 ms).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PROC = Path("/proc")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _parent_of(stat_text: str) -> int:
    # /proc/<pid>/stat is "pid (comm) state ppid ..."; comm may hold spaces or ')', so split after
    # the LAST ')'.
    return int(stat_text[stat_text.rindex(")") + 2 :].split()[1])


def descendants(root_pid: int) -> set[int]:
    """`root_pid` and every process below it (children, grandchildren, ...) that exists right now."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = _parent_of((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree.add(pid)
            todo.extend(children.get(pid, ()))
    return tree


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (0 when it is gone)."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def tree_rss_bytes(root_pid: int) -> int:
    """Sum of the RSS of `root_pid` and all its descendants."""
    return sum(rss_bytes(pid) for pid in descendants(root_pid))


class PeakRssSampler:
    """Polls the tree RSS of `pid` in a background thread until stopped; `peak_bytes` is the maximum
    and `timeline` holds every (epoch seconds, bytes) sample, to attribute peaks to a run's steps.

        with PeakRssSampler(proc.pid) as sampler:
            proc.wait()
        sampler.peak_bytes
    """

    def __init__(self, pid: int, interval_s: float = 0.1):
        self.pid = pid
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.samples = 0
        self.timeline: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"rss-{pid}", daemon=True)

    def _poll(self) -> None:
        while True:
            rss = tree_rss_bytes(self.pid)
            self.timeline.append((time.time(), rss))
            self.peak_bytes = max(self.peak_bytes, rss)
            self.samples += 1
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> "PeakRssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> int:
        """The highest sample taken between two epoch times (0 if none)."""
        return max((rss for ts, rss in self.timeline if start <= ts <= end), default=0)
