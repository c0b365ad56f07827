"""Bench data: generated once per (scale, end date, seed, generator code) and reused, plus the
landing folders each measured run reads, made of hard links (symlinks where links are impossible).

    data/<tag>/history/    the generator's landing: CRM as of END, event days END-364 .. END
    data/<tag>/next/       the same landing one day later (END+1): hard links to history, then the
                           generator run with --end-date END+1 over it rewrites what changes (the
                           CRM snapshot) and adds the new day; unchanged files stay links
    data/<tag>/bench-data.json   the marker: generator arguments and code hash of the data above
    landing/<tag>/long, short, long_next, short_next   link farms for the four nightly runs: all
        history days (365) or only the last 30 with the history's CRM, then the same + the new day
        and the next day's CRM snapshot

`<tag>` names the scale (and the history length when it is not 365 days, as in --quick).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workflows.settings import REPO_ROOT

MARKER = "bench-data.json"
HISTORY_DAYS = 365
SHORT_HISTORY_DAYS = 30
EVENTS = Path("web") / "events"


class BenchDataError(RuntimeError):
    """The bench data could not be generated or laid out; the message says which step and why."""


@dataclass(frozen=True)
class Landings:
    """The four landing folders of one bench run and the days they end on."""

    long: Path  # every history day (365)
    short: Path  # only the last 30 days of it
    long_next: Path  # + the next day and its CRM snapshot
    short_next: Path
    end_date: dt.date
    next_date: dt.date
    history_days: int
    short_days: int
    generate_s: float  # seconds spent generating this time (0 when the data was reused)
    reused: bool
    changed_history_days: list[str]  # history day files the next-day generation rewrote (expected: none)


def scale_tag(scale: float, history_days: int = HISTORY_DAYS) -> str:
    """Folder name for a scale: `scale-1`, `scale-0.01`, `scale-10`; `scale-0.01-30d` for a short history."""
    return f"scale-{scale:g}" + ("" if history_days == HISTORY_DAYS else f"-{history_days}d")


def generator_code_hash() -> str:
    """SHA-256 of the generator's source: new code means new data, so a stale set is never measured."""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "sample").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def generator_args(out: Path, scale: float, end_date: dt.date, days: int, seed: int | None) -> list[str]:
    """Command-line arguments of `python -m sample.generate` for one landing folder."""
    args = ["--out", str(out), "--scale", f"{scale:g}", "--end-date", end_date.isoformat(), "--days", str(days)]
    return args + (["--seed", str(seed)] if seed is not None else [])


def _run_generator(args: list[str], log: Path) -> None:
    cmd = [sys.executable, "-m", "sample.generate", *args]
    with log.open("a", encoding="utf-8") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        done = subprocess.run(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=child_env({}))
    if done.returncode != 0:
        raise BenchDataError(f"sample generator failed (exit {done.returncode}): {last_line(log)} (log: {log})")


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    """The environment for a child process: ours, with .pyc files allowed (they halve Dagster's start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(overrides)
    return env


def last_line(log: Path) -> str:
    """The last line of a log that says what went wrong (an error line if there is one)."""
    lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    for marker in ("✗", "Error", "error:", "Exception"):
        hits = [ln for ln in lines if marker in ln]
        if hits:
            return hits[-1][:500]
    return lines[-1][:500] if lines else "(no output)"


def link_tree(files: list[Path], src_root: Path, dst_root: Path) -> None:
    """Recreate `files` (under `src_root`) under `dst_root` as hard links (symlinks across devices)."""
    for src in files:
        dst = dst_root / src.relative_to(src_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            dst.symlink_to(src.resolve())


def _day_files(landing: Path) -> list[Path]:
    return sorted((landing / EVENTS).glob("*.jsonl"))


def _crm_files(landing: Path) -> list[Path]:
    return sorted((landing / "crm").glob("*"))


def _generate(data: Path, history: Path, nxt: Path, wanted: dict) -> None:
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    log = data / "generate.log"
    _run_generator(wanted["history"], log)
    # The next day over links to the history: the generator replaces (os.replace) only files whose
    # content changes, so the history's files are never written through a link.
    link_tree(_crm_files(history) + _day_files(history), history, nxt)
    _run_generator(wanted["next"], log)


def prepare_data(bench_dir: Path, scale: float, end_date: dt.date, seed: int | None = None,
                 history_days: int = HISTORY_DAYS, short_days: int = SHORT_HISTORY_DAYS) -> Landings:
    """Generate (or reuse) the bench data for `scale` and lay out the four landing folders."""
    if not 1 <= short_days < history_days:
        raise BenchDataError(f"short history of {short_days} days must be at least 1 and below {history_days}")
    tag = scale_tag(scale, history_days)
    data = bench_dir / "data" / tag
    history, nxt = data / "history", data / "next"
    next_date = end_date + dt.timedelta(days=1)
    wanted = {
        "history": generator_args(history, scale, end_date, history_days, seed),
        "next": generator_args(nxt, scale, next_date, history_days + 1, seed),
        "generator_code": generator_code_hash(),
    }
    marker = data / MARKER
    reused = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("args") == wanted
    generate_s, changed = 0.0, []
    if reused:
        changed = json.loads(marker.read_text(encoding="utf-8")).get("changed_history_days", [])
    else:
        started = time.perf_counter()
        _generate(data, history, nxt, wanted)
        if generator_code_hash() != wanted["generator_code"]:
            # someone edited the generator while it ran: history and next day may disagree; once more
            wanted["generator_code"] = generator_code_hash()
            _generate(data, history, nxt, wanted)
            if generator_code_hash() != wanted["generator_code"]:
                raise BenchDataError(f"sample/*.py changed twice while generating {data}; run the bench again")
        generate_s = time.perf_counter() - started
        changed = [p.name for p in _day_files(history) if not (nxt / EVENTS / p.name).samefile(p)]
        marker.write_text(json.dumps({"args": wanted, "changed_history_days": changed,
                                      "generate_s": round(generate_s, 1)}, indent=2), encoding="utf-8")
    days = _day_files(history)
    new_day = nxt / EVENTS / f"{next_date:%Y-%m-%d}.jsonl"
    if not days or not new_day.is_file():
        raise BenchDataError(f"{data}: the generator left no event day files (or no {new_day.name}); "
                             f"delete {marker} to regenerate")
    root = bench_dir / "landing" / tag
    shutil.rmtree(root, ignore_errors=True)
    recent = days[-short_days:]
    layouts = {
        "long": (_crm_files(history) + days, []),
        "short": (_crm_files(history) + recent, []),
        "long_next": (_crm_files(nxt) + _day_files(nxt), []),
        "short_next": (_crm_files(nxt) + [new_day], recent),
    }
    for name, (from_own_folder, from_history) in layouts.items():
        link_tree(from_own_folder, nxt if name.endswith("_next") else history, root / name)
        link_tree(from_history, history, root / name)
    return Landings(root / "long", root / "short", root / "long_next", root / "short_next", end_date, next_date,
                    history_days, short_days, round(generate_s, 1), reused, changed)
