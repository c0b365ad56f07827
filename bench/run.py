"""`make bench`: generate (or reuse) bench data, measure the read floor, a full nightly rebuild and an
incremental night with 365 and with 30 days of history, each run in its own subprocess with its peak
RSS, then write `report.json` + `report.md` under the bench folder and print the targets.

    python -m bench.run --scale 1           # 100k accounts, 1M contacts, ~20M events over 365 days
    python -m bench.run --scale 10          # 10x (optional: out-of-core behaviour and scaling)
    python -m bench.run --quick             # scale 0.01, 14 days of history (3 for the short one), the
                                            # two histories side by side: checks the harness, not speed
    python -m bench.run --repeat 5          # each incremental night 5 times (default 3), the two histories
                                            # in alternating rounds; medians reported

The bench folder is `var/bench` (or `BENCH_DIR`). Exit status 1 when any step failed (the error line
is printed and kept in the report); missed targets are reported, not an error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.data import HISTORY_DAYS, SHORT_HISTORY_DAYS, BenchDataError, Landings, child_env, prepare_data, scale_tag
from bench.machine import git_commit, machine_info
from bench.nightly import NightlyResult, RunFolders, copy_state, median_run, run_nightly
from bench.report import evaluate_targets, render_console, render_markdown
from workflows.settings import REPO_ROOT

DEFAULT_END_DATE = dt.date(2026, 10, 31)  # fixed, so the same arguments always mean the same data
QUICK_SCALE = 0.01
QUICK_HISTORY_DAYS, QUICK_SHORT_DAYS = 14, 3


def bench_dir_from_env() -> Path:
    """`BENCH_DIR` or `var/bench` in the repository."""
    value = os.environ.get("BENCH_DIR", "").strip()
    return Path(value).expanduser().resolve() if value else REPO_ROOT / "var" / "bench"


def say(text: str) -> None:
    """Progress on stderr, flushed (the runs take minutes)."""
    print(text, file=sys.stderr, flush=True)


def measure_floor(landing: Path, repeats: int, log: Path) -> dict:
    """The read floor in fresh processes (`bench.floor`), best of `repeats` (the page cache is warm for
    every run, the nightly runs included); every attempt's seconds are kept."""
    attempts = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-m", "bench.floor", str(landing)], cwd=REPO_ROOT,
                              capture_output=True, text=True, env=child_env({}))
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            raise RuntimeError(f"read floor failed: {(done.stderr.strip().splitlines() or ['?'])[-1]} (log: {log})")
        attempts.append(json.loads(done.stdout))
    best = min(attempts, key=lambda a: a["seconds"])
    return {**best, "attempts_s": [round(a["seconds"], 3) for a in attempts]}


@dataclass(frozen=True)
class Chain:
    """One history: its full rebuild's landing and the next night's, and the phase suffix of its runs
    (`""`: `full`/`incremental`, all history; `"_30d"`: `full_30d`/`incremental_30d`, short history)."""

    suffix: str
    full_landing: Path
    next_landing: Path
    days: int


def run_full(chain: Chain, runs_root: Path, landings: Landings, timeout_s: float) -> NightlyResult:
    """The full rebuild of `chain`'s history from an empty warehouse."""
    folders = RunFolders(runs_root / f"full{chain.suffix}")
    say(f"[bench] full nightly rebuild, {chain.days} days of history ...")
    full = run_nightly(f"full{chain.suffix}", folders, chain.full_landing, landings.end_date, timeout_s)
    say(f"[bench]   full{chain.suffix}: {'ok' if full.ok else 'FAILED'} in {full.wall_s:.1f}s"
        + ("" if full.ok else f": {full.error} (log: {folders.log})"))
    return full


def run_incremental(chain: Chain, runs_root: Path, landings: Landings, timeout_s: float, attempt: int,
                    repeat: int) -> NightlyResult:
    """One attempt at `chain`'s next night, on a fresh copy of its full rebuild's state (the run folder
    keeps the last attempt's state and log)."""
    inc_dirs = RunFolders(runs_root / f"incremental{chain.suffix}")
    copy_state(RunFolders(runs_root / f"full{chain.suffix}"), inc_dirs)
    say(f"[bench] incremental night {landings.next_date}, {chain.days} days of history"
        + (f" (attempt {attempt} of {repeat})" if repeat > 1 else "") + " ...")
    run = run_nightly(f"incremental{chain.suffix}", inc_dirs, chain.next_landing, landings.next_date, timeout_s)
    say(f"[bench]   incremental{chain.suffix}: {'ok' if run.ok else 'FAILED'} in {run.wall_s:.1f}s"
        + ("" if run.ok else f": {run.error} (log: {inc_dirs.log})"))
    return run


def attempt_rounds(suffixes: list[str], repeat: int) -> list[list[str]]:
    """The order of the incremental nights: `repeat` rounds, one attempt of each history per round,
    alternating which goes first (A B, B A, A B, ...). This machine's speed drifts by 10-40% within
    minutes: all of one history's attempts and then all of the other's would compare two machine
    states; in rounds, each pair shares one, and a drift within a round favours neither side."""
    return [list(suffixes if n % 2 == 0 else suffixes[::-1]) for n in range(repeat)]


def run_nights(chains: list[Chain], runs_root: Path, landings: Landings, timeout_s: float, jobs: int,
               repeat: int, keep_going: bool = False) -> list[NightlyResult]:
    """Every chain's full rebuild, then its next night `repeat` times in `attempt_rounds` (the median
    attempt is reported, with every attempt's time; the report's 365/30 ratio is the median of the
    rounds' ratios). `jobs=2` runs the two chains side by side instead (checks the harness, skews
    timings). A chain stops after a failed attempt; after a failed full rebuild its nights run only
    with `keep_going`."""
    by_suffix = {chain.suffix: chain for chain in chains}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        fulls = list(pool.map(lambda chain: run_full(chain, runs_root, landings, timeout_s), chains))
        attempts: dict[str, list[NightlyResult]] = {
            chain.suffix: [] for chain, full in zip(chains, fulls) if full.ok or keep_going}
        for number, suffixes in enumerate(attempt_rounds(list(attempts), repeat), start=1):
            ready = [by_suffix[s] for s in suffixes if all(run.ok for run in attempts[s])]
            runs = pool.map(lambda chain, n=number: run_incremental(chain, runs_root, landings, timeout_s, n, repeat), ready)
            for chain, run in zip(ready, runs):
                attempts[chain.suffix].append(run)
    return fulls + [median_run(runs) for runs in attempts.values() if runs]


def paired_ratios(runs: dict[str, dict]) -> list[float]:
    """Per attempt, the long-history night over the short-history night of the same pair (empty unless
    both nights ran the same number of times and every attempt worked)."""
    long, short = runs.get("incremental"), runs.get("incremental_30d")
    if not long or not short or not long["ok"] or not short["ok"]:
        return []
    if len(long["attempts_s"]) != len(short["attempts_s"]) or not all(short["attempts_s"]):
        return []
    return [round(a / b, 4) for a, b in zip(long["attempts_s"], short["attempts_s"])]


def build_report(scale: float, landings: Landings | None, floor: dict | None, results: list[NightlyResult],
                 errors: list[str], baseline: dict | None) -> dict:
    """Everything measured, in the shape of report.json."""
    runs = {r.phase: r.as_dict() for r in results}

    def wall(phase: str) -> float | None:
        # timed when the job itself succeeded, even if the command failed after it (still an error)
        run = runs.get(phase)
        return run["wall_s"] if run and (run["ok"] or run["run_status"] == "SUCCESS") else None

    rss = {phase: run["peak_rss_bytes"] for phase, run in runs.items()}
    floor_rows = (floor or {}).get("rows", {})
    report = {
        "status": "failed" if errors else "ok",
        "errors": errors,
        "scale": scale,
        "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "git": git_commit(),
        "machine": machine_info(),
        "rows": {"events": floor_rows.get("web_events"), "contacts": floor_rows.get("contacts"),
                 "accounts": floor_rows.get("accounts"), "opportunities": floor_rows.get("opportunities"),
                 "subscriptions": floor_rows.get("subscriptions"),
                 "event_days": landings.history_days if landings else None,
                 "short_history_days": landings.short_days if landings else None},
        "input_bytes": (floor or {}).get("bytes"),
        "floor_s": round(floor["seconds"], 3) if floor else None,
        "floor": floor,
        "full_s": wall("full"),
        "incremental_s": wall("incremental"),
        "full_30d_s": wall("full_30d"),
        "incremental_30d_s": wall("incremental_30d"),
        "incremental_ratio_pairs": paired_ratios(runs),
        "peak_rss_bytes": max(rss.values()) if rss else None,
        "peak_rss_by_phase": rss,
        "per_asset_s": (runs.get("full") or {}).get("per_asset_s", {}),
        "per_asset_incremental_s": (runs.get("incremental") or {}).get("per_asset_s", {}),
        "peak_rss_by_step": (runs.get("full") or {}).get("peak_rss_by_step", {}),
        "runs": runs,
        "data": None if landings is None else {
            "end_date": landings.end_date.isoformat(), "next_date": landings.next_date.isoformat(),
            "reused": landings.reused, "generate_s": landings.generate_s,
            "changed_history_days": landings.changed_history_days},
    }
    if landings and landings.changed_history_days:
        report["errors"].append("the next-day generation rewrote history day files "
                                f"{landings.changed_history_days[:5]}: the incremental night is not one new day")
        report["status"] = "failed"
    report["targets"] = [t.as_dict() for t in evaluate_targets(report, baseline)]
    return report


def write_report(bench_dir: Path, report: dict) -> Path:
    """`report.json` and `report.md` (latest run), plus `report-<scale>.json/.md` kept per scale."""
    bench_dir.mkdir(parents=True, exist_ok=True)
    path = bench_dir / "report.json"
    report["report_path"] = str(path)
    text = json.dumps(report, indent=2, default=str)
    path.write_text(text, encoding="utf-8")
    tag = scale_tag(report["scale"], report["rows"]["event_days"] or HISTORY_DAYS)
    (bench_dir / f"report-{tag}.json").write_text(text, encoding="utf-8")
    markdown = render_markdown(report)
    (bench_dir / "report.md").write_text(markdown, encoding="utf-8")
    (bench_dir / f"report-{tag}.md").write_text(markdown, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None, help="multiple of bench scale (default 1; --quick: 0.01)")
    parser.add_argument("--quick", action="store_true",
                        help=f"scale {QUICK_SCALE} (unless --scale), {QUICK_HISTORY_DAYS}/{QUICK_SHORT_DAYS} days of "
                             "history, floor read once, --jobs 2")
    parser.add_argument("--history-days", type=int, default=None, help=f"days of history (default {HISTORY_DAYS})")
    parser.add_argument("--short-days", type=int, default=None,
                        help=f"days of the short history (default {SHORT_HISTORY_DAYS}); its runs are the *_30d phases")
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=DEFAULT_END_DATE,
                        help=f"last day of history (default {DEFAULT_END_DATE}); the incremental night is the day after")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: the generator's)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before one nightly run is stopped")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=None,
                        help="2: run the short-history runs alongside the others (skews timings; default 1, --quick 2)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each incremental night, from the same state; the median is reported "
                             "(default 3, --quick 1)")
    parser.add_argument("--keep-going", action="store_true",
                        help="run the incremental night even after a failed full rebuild (times what works so far)")
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
    history_days = args.history_days or (QUICK_HISTORY_DAYS if args.quick else HISTORY_DAYS)
    short_days = args.short_days or (QUICK_SHORT_DAYS if args.quick else SHORT_HISTORY_DAYS)
    jobs = args.jobs or (2 if args.quick else 1)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if not 1 <= repeat <= 9:
        parser.error(f"--repeat {repeat}: must be 1 to 9")
    if not 0 < scale <= 100:
        parser.error(f"--scale {scale:g}: must be above 0 and at most 100")
    bench_dir = bench_dir_from_env()
    tag = scale_tag(scale, history_days)
    errors: list[str] = []
    landings = floor = None
    results: list[NightlyResult] = []
    started = time.perf_counter()
    try:
        say(f"[bench] data for scale {scale:g} under {bench_dir / 'data' / tag} ...")
        landings = prepare_data(bench_dir, scale, args.end_date, args.seed, history_days, short_days)
        say(f"[bench]   {'reused' if landings.reused else f'generated in {landings.generate_s:.0f}s'}")
    except BenchDataError as exc:
        errors.append(str(exc))
    if landings is not None:
        runs_root = bench_dir / "runs" / tag
        shutil.rmtree(runs_root, ignore_errors=True)
        runs_root.mkdir(parents=True)
        try:
            say("[bench] read floor ...")
            floor = measure_floor(landings.long, 1 if args.quick else 2, runs_root / "floor.log")
            say(f"[bench]   read floor {floor['seconds']:.1f}s (attempts {floor['attempts_s']})")
        except RuntimeError as exc:
            errors.append(str(exc))
        chains = [Chain("", landings.long, landings.long_next, landings.history_days),
                  Chain("_30d", landings.short, landings.short_next, landings.short_days)]
        results = run_nights(chains, runs_root, landings, args.timeout, jobs, repeat, args.keep_going)
        errors += [f"{r.phase} nightly run failed: {r.error}" for r in results if not r.ok]
    baseline_path = bench_dir / f"report-{scale_tag(1)}.json"
    baseline = json.loads(baseline_path.read_text(encoding="utf-8")) if scale > 1 and baseline_path.is_file() else None
    report = build_report(scale, landings, floor, results, errors, baseline)
    report["rows"]["event_days"] = report["rows"]["event_days"] or history_days
    report["bench_s"] = round(time.perf_counter() - started, 1)
    write_report(bench_dir, report)
    print(render_console(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
