"""The benchmark harness (`bench/`): end to end at a tiny scale into tmp_path, plus its parts.

No timing is asserted anywhere: the benchmark is the measure. The end-to-end run generates real data
with `sample.generate` and runs the real nightly job in subprocesses; when the pipeline cannot run end
to end, the report must still be written and the test fails with the harness's error lines.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from bench.data import BenchDataError, child_env, link_tree, prepare_data
from bench.floor import measure_read_floor
from bench.nightly import NightlyResult, RunFolders, copy_state, read_step_timings, run_nightly
from bench.process_tree import PeakRssSampler, descendants, tree_rss_bytes
from bench.report import REQUIRED_KEYS, asset_shares, evaluate_targets, render_console, render_markdown
from workflows.settings import REPO_ROOT

SCALE = 0.002  # 200 accounts, 2,000 contacts
PHASES = ("full", "incremental", "full_30d", "incremental_30d")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m bench.run --quick --scale 0.002` with BENCH_DIR in a tmp folder, run once per session.

    The xdist_group mark does not keep these tests on one worker here (pytest 9 + xdist 3.8 drop the
    group suffix), so workers share the session's temp root and a file lock: the first one runs the
    harness, the others wait and read its result."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "bench_harness"
    root.mkdir(exist_ok=True)
    bench_dir, saved = root / "bench", root / "completed.json"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.is_file():
            done = subprocess.run(
                [sys.executable, "-m", "bench.run", "--quick", "--scale", str(SCALE)], cwd=REPO_ROOT,
                capture_output=True, text=True, timeout=600, env=child_env({"BENCH_DIR": str(bench_dir)}),
            )
            saved.write_text(json.dumps({"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}))
        result = json.loads(saved.read_text())
    return subprocess.CompletedProcess(["bench.run"], result["returncode"], result["stdout"], result["stderr"]), bench_dir


@pytest.mark.slow
@pytest.mark.xdist_group("bench_e2e")
def test_report_files_have_required_keys_and_sane_values(bench_run):
    done, bench_dir = bench_run
    report_path, md_path = bench_dir / "report.json", bench_dir / "report.md"
    assert report_path.is_file(), f"no report.json; stderr:\n{done.stderr[-3000:]}"
    report = json.loads(report_path.read_text())
    assert set(REQUIRED_KEYS) <= report.keys()
    assert report["scale"] == SCALE
    assert report["rows"]["accounts"] == 200 and report["rows"]["contacts"] == 2000
    assert report["rows"]["events"] > 0 and report["rows"]["event_days"] == 14
    assert report["floor_s"] > 0 and report["input_bytes"] > 0
    assert report["floor"]["rows"]["web_events"] == report["rows"]["events"]
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["memory_bytes"] > 10**8 and machine["versions"]["duckdb"] == duckdb.__version__
    assert re.fullmatch(r"[0-9a-f]{40}", report["git"]["commit"])
    assert dt.datetime.fromisoformat(report["date"]).tzinfo is not None
    assert {t["status"] for t in report["targets"]} <= {"PASS", "MISS", "n/a"}
    assert [t["name"] for t in report["targets"]][:3] == [
        "full rebuild vs read floor", "incremental night vs full rebuild", "incremental night, 14 vs 3 days of history"]
    # the runs that happened were measured: a process tree of real size, steps read from Dagster
    for phase, run in report["runs"].items():
        assert phase in PHASES
        assert 50 * 10**6 < run["peak_rss_bytes"] < 16 * 10**9
        assert run["run_id"] and run["per_step_s"], f"{phase}: no step events read from the instance"
        assert run["peak_rss_by_step"].keys() <= run["per_step_s"].keys()
        assert 0 < max(run["peak_rss_by_step"].values()) <= run["peak_rss_bytes"]
    assert "raw/web_events" in report["per_asset_s"]
    assert report["peak_rss_bytes"] == max(report["peak_rss_by_phase"].values())
    md = md_path.read_text()
    assert "| measure | time | peak RSS | target | result |" in md and "Machine: " in md
    # last: a pipeline that cannot run end to end fails the test with the harness's own error lines
    assert done.returncode == 0, "bench failed:\n" + "\n".join(report["errors"]) + "\n" + done.stdout[-2000:]
    assert report["status"] == "ok" and not report["errors"]
    for key in ("full_s", "incremental_s", "full_30d_s", "incremental_30d_s"):
        assert report[key] > 0, key
    assert set(report["runs"]) == set(PHASES)
    assert report["data"]["changed_history_days"] == []


@pytest.mark.slow
@pytest.mark.xdist_group("bench_e2e")
def test_console_prints_targets_and_shares(bench_run):
    done, _ = bench_run
    assert "Targets:" in done.stdout
    assert re.search(r"\[(PASS|MISS|n/a )\] peak RSS", done.stdout)
    assert "top assets by time" in done.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("bench_e2e")
def test_data_is_reused_with_same_args_and_landings_hold_links(bench_run):
    _, bench_dir = bench_run
    landings = prepare_data(bench_dir, SCALE, dt.date(2026, 10, 31), history_days=14, short_days=3)
    assert landings.reused and landings.generate_s == 0
    long_days = sorted(p.name for p in (landings.long / "web" / "events").iterdir())
    short_days = sorted(p.name for p in (landings.short / "web" / "events").iterdir())
    assert len(long_days) == 14 and short_days == long_days[-3:]
    next_days = sorted(p.name for p in (landings.short_next / "web" / "events").iterdir())
    assert next_days == short_days + ["2026-11-01.jsonl"]
    same = landings.long / "web" / "events" / long_days[-1]
    assert same.samefile(landings.short_next / "web" / "events" / long_days[-1])  # a link, not a copy
    assert (landings.long_next / "crm" / "contacts.csv").is_file()


def test_short_history_must_be_shorter(tmp_path):
    with pytest.raises(BenchDataError, match="short history of 30 days"):
        prepare_data(tmp_path, SCALE, dt.date(2026, 10, 31), history_days=30, short_days=30)


def test_bad_scale_is_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench.run", "--scale", "0"], cwd=REPO_ROOT, capture_output=True,
                          text=True, env=child_env({"BENCH_DIR": str(tmp_path)}))
    assert done.returncode == 2 and "--scale 0: must be above 0" in done.stderr


@pytest.mark.parametrize("repeat", ["0", "10"])
def test_bad_repeat_is_refused(tmp_path, repeat):
    done = subprocess.run([sys.executable, "-m", "bench.run", "--repeat", repeat], cwd=REPO_ROOT, capture_output=True,
                          text=True, env=child_env({"BENCH_DIR": str(tmp_path)}))
    assert done.returncode == 2 and f"--repeat {repeat}: must be 1 to 9" in done.stderr
    assert not (tmp_path / "data").exists()  # refused before any data is generated


@pytest.mark.slow
@pytest.mark.xdist_group("bench_failure")  # a nightly start costs ~15 s: beside the end-to-end run
def test_failed_nightly_run_is_recorded_with_its_error(tmp_path):
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)  # no CRM files: the raw layer must stop the run
    result = run_nightly("full", RunFolders(tmp_path / "run"), landing, dt.date(2026, 10, 31), timeout_s=300)
    assert not result.ok and result.returncode != 0
    assert result.error and "accounts.csv" in result.error, result.error
    assert result.peak_rss_bytes > 0


def test_step_timings_come_from_the_instance_and_split_multi_asset_steps(tmp_path):
    from dagster import AssetKey, AssetSpec, DagsterInstance, MaterializeResult, asset, materialize, multi_asset

    from workflows.instance import ensure_instance

    @multi_asset(specs=[AssetSpec(["s", "a"]), AssetSpec(["s", "b"])])
    def both():
        yield MaterializeResult(asset_key=["s", "a"])
        yield MaterializeResult(asset_key=["s", "b"])

    @asset(key=["s", "c"], deps=[AssetKey(["s", "a"])])
    def single() -> None:
        return None

    @asset(key=["s", "d"], deps=[AssetKey(["s", "c"])])
    def broken() -> None:
        raise ValueError("crm/contacts.csv: column email missing")

    home = tmp_path / "dagster"
    ensure_instance(home)
    with DagsterInstance.from_config(str(home)) as instance:
        assert not materialize([both, single, broken], instance=instance, raise_on_error=False).success
    result = NightlyResult("full", False, 1.0, 1, 1, "2026-10-31")
    windows = read_step_timings(home, result)
    assert set(result.per_step_s) == {"both", "s__c", "s__d"} == set(windows)
    assert set(result.per_asset_s) == {"s/a", "s/b", "s/c", "s__d"}  # a failed step keeps its step key
    split = result.per_asset_s["s/a"] + result.per_asset_s["s/b"]
    assert split == pytest.approx(result.per_step_s["both"], abs=0.002)
    assert result.failed_steps == ["s__d"] and result.run_status == "FAILURE" and result.run_s is not None
    assert result.error == "s__d: ValueError: crm/contacts.csv: column email missing"


def test_step_timings_without_an_instance_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="created no Dagster instance"):
        read_step_timings(tmp_path, NightlyResult("full", False, 1.0, 1, 1, "2026-10-31"))


def test_copy_state_keeps_links_dangling_ones_too_and_leaves_the_log(tmp_path):
    src, dst = RunFolders(tmp_path / "full"), RunFolders(tmp_path / "incremental")
    run_dir = src.exports / "audience" / "google_ads" / "2026-10-31-01"
    run_dir.mkdir(parents=True)
    (run_dir / "audience.csv").write_text("email\n")
    (run_dir.parent / "latest").symlink_to(run_dir.name)
    src.warehouse.write_bytes(b"duckdb")
    src.log.write_text("full run log")
    (src.exports / "gone").symlink_to("nowhere")  # a dangling link is copied, not followed when flushed
    copy_state(src, dst)
    assert (dst.exports / "gone").is_symlink()
    latest = dst.exports / "audience" / "google_ads" / "latest"
    assert latest.is_symlink() and latest.readlink() == Path("2026-10-31-01")
    assert (latest / "audience.csv").read_text() == "email\n"
    assert dst.warehouse.read_bytes() == b"duckdb" and not dst.log.exists()


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)
    (landing / "web" / "events").mkdir(parents=True)
    (landing / "crm" / "accounts.csv").write_text('account_id,name\n1,"Acme, Inc"\n2,Beta\n')
    (landing / "web" / "events" / "2026-10-30.jsonl").write_text(
        '{"type":"page","messageId":"m1","context":{"page":{"url":"https://x.io/"}}}\n'
        '{"type":"track","event":"Feature Used","properties":{"feature":"seats"}}\n')
    (landing / "web" / "events" / "2026-10-31.jsonl").write_text('{"type":"identify","traits":{"email":"a@b.io"}}\n{broken\n')
    return landing


def test_read_floor_counts_every_row_and_survives_a_broken_line(tmp_path):
    floor = measure_read_floor(_landing(tmp_path))
    assert floor["rows"]["accounts"] == 2
    assert floor["rows"]["web_event_lines"] == 4 and floor["files"] == 3
    assert floor["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())


def test_read_floor_of_an_empty_landing_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        measure_read_floor(tmp_path)


def test_link_tree_makes_hard_links(tmp_path):
    src = _landing(tmp_path)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    link_tree(files, src, tmp_path / "copy")
    for f in files:
        assert (tmp_path / "copy" / f.relative_to(src)).samefile(f)


def test_tree_rss_counts_children(tmp_path):
    # a parent that starts a child holding ~200 MB; the tree's RSS must include the child's
    script = ("import subprocess, sys, time\n"
              "c = subprocess.Popen([sys.executable, '-c', 'import time; b = bytearray(200 * 10**6); time.sleep(30)'])\n"
              "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        with PeakRssSampler(proc.pid, interval_s=0.05) as sampler:
            deadline = time.monotonic() + 20
            while len(descendants(proc.pid)) < 2 or tree_rss_bytes(proc.pid) < 200 * 10**6:
                assert time.monotonic() < deadline, "the child never showed up in the tree"
                time.sleep(0.05)
            time.sleep(0.2)
        assert sampler.peak_bytes >= 200 * 10**6 and sampler.samples >= 2
        assert sampler.peak_between(0, time.time()) == sampler.peak_bytes
        assert sampler.peak_between(0, 1) == 0  # no sample in 1970
    finally:
        for pid in descendants(proc.pid) - {proc.pid}:
            os.kill(pid, 9)
        proc.kill()
        proc.wait()


def _report(**overrides) -> dict:
    base = {"scale": 1.0, "floor_s": 20.0, "full_s": 55.0, "incremental_s": 8.0, "incremental_30d_s": 7.0,
            "peak_rss_bytes": 3 * 10**9, "rows": {"event_days": 365, "short_history_days": 30}}
    return {**base, **overrides}


def test_targets_pass_and_miss_at_their_bounds():
    status = {t.name: t.status for t in evaluate_targets(_report())}
    assert list(status.values()) == ["PASS"] * 4  # 55 <= 2.5 * 20 + 10; 8/55 <= 20%; 8/7 <= 1.25; 3 GB
    missed = evaluate_targets(_report(full_s=61.0, incremental_s=9.0, incremental_30d_s=7.0, peak_rss_bytes=5 * 10**9))
    assert [t.status for t in missed] == ["MISS", "PASS", "MISS", "MISS"]
    assert [t.status for t in evaluate_targets(_report(full_s=None, incremental_s=None))][:3] == ["n/a"] * 3


def test_scale_10_is_compared_with_the_scale_1_report():
    targets = evaluate_targets(_report(scale=10.0, full_s=600.0, peak_rss_bytes=20 * 10**9), baseline={"full_s": 55.0})
    assert [t.status for t in targets][-2:] == ["PASS", "PASS"]  # 20 GB <= 24 GB; 600/55 = 10.9x <= 11x
    assert evaluate_targets(_report(scale=10.0, full_s=700.0), baseline={"full_s": 55.0})[-1].status == "MISS"
    assert evaluate_targets(_report(scale=10.0), baseline=None)[-1].status == "n/a"


def test_asset_shares_rank_and_sum_to_one():
    shares = asset_shares({"raw/web_events": 6.0, "staging/events": 3.0, "segments/x": 1.0}, top=2)
    assert [(n, round(s, 2)) for n, _, s in shares] == [("raw/web_events", 0.6), ("staging/events", 0.3)]
    assert asset_shares({}) == []


def test_markdown_names_failed_and_missing_runs():
    report = {**_report(), "date": "2026-11-24T00:00:00+00:00", "git": {"commit": "a" * 40, "dirty": False},
              "machine": {"cores": 2, "cpu_model": "cpu", "memory_bytes": 8 * 10**9, "python": "3.11", "versions": {}},
              "runs": {"full": {"ok": False, "wall_s": 3.0, "peak_rss_bytes": 10**8, "error": "boom"}},
              "errors": ["full nightly run failed: boom"], "per_asset_s": {}}
    report["targets"] = [t.as_dict() for t in evaluate_targets(report)]
    md = render_markdown(report)
    assert "FAILED after 3.0s" in md and "| incremental night (365 days of history) | not run |" in md
    assert "- full nightly run failed: boom" in md


def test_a_repeated_night_reports_its_median_attempt_or_its_failure():
    from bench.nightly import NightlyResult, median_run

    def night(wall_s: float, rss: int, ok: bool = True, **steps: float) -> NightlyResult:
        return NightlyResult("incremental", ok, wall_s, rss, 0 if ok else 1, "2026-11-01", error=None if ok else "boom",
                             per_step_s=steps)

    chosen = median_run([night(81.9, 3 * 10**9, events=5.0, crm=9.0), night(74.1, 4 * 10**9, events=3.0),
                         night(76.0, 2 * 10**9, events=4.5, crm=8.0)])
    assert chosen.wall_s == 76.0 and chosen.attempts_s == [81.9, 74.1, 76.0] and chosen.peak_rss_bytes == 4 * 10**9
    assert chosen.per_step_s == {"events": 4.5, "crm": 8.0}  # the chosen attempt's own
    assert chosen.per_step_median_s == {"crm": 8.5, "events": 4.5}  # a step missing from an attempt: of the others
    assert median_run([night(80.0, 1), night(70.0, 1)]).wall_s == 70.0  # the lower middle of an even count
    assert median_run([night(70.0, 1), night(12.0, 1, ok=False)]).error == "boom"
    with pytest.raises(ValueError):
        median_run([])
    report = {"runs": {"incremental": {**chosen.as_dict()}}, "scale": 1, "targets": [], "floor_s": 1.0}
    assert "median of 3: 74.1s, 76.0s, 81.9s" in render_console(report)


def test_incremental_nights_run_in_rounds_that_alternate_which_history_goes_first():
    from bench.run import attempt_rounds

    assert attempt_rounds(["", "_30d"], 3) == [["", "_30d"], ["_30d", ""], ["", "_30d"]]
    assert attempt_rounds(["_30d"], 2) == [["_30d"], ["_30d"]]  # the other history's full rebuild failed
    assert attempt_rounds(["", "_30d"], 0) == []


def test_the_history_ratio_is_the_median_of_the_rounds_when_they_were_paired():
    from bench.run import paired_ratios

    def night(*attempts_s: float, ok: bool = True) -> dict:
        return {"ok": ok, "attempts_s": list(attempts_s)}

    runs = {"incremental": night(68.0, 76.2, 79.5), "incremental_30d": night(57.6, 62.5, 58.1)}
    pairs = paired_ratios(runs)
    assert pairs == [round(68.0 / 57.6, 4), round(76.2 / 62.5, 4), round(79.5 / 58.1, 4)]
    # the median nights (76.2s / 58.1s = 1.31x) miss; the median round (1.22x) passes
    report = _report(incremental_s=76.2, incremental_30d_s=58.1, incremental_ratio_pairs=pairs)
    target = evaluate_targets(report)[2]
    assert target.status == "PASS"
    assert target.measured == "1.22x (median of 3 rounds: 1.18x, 1.22x, 1.37x; the median nights: 1.31x)"
    assert evaluate_targets(_report(incremental_s=76.2, incremental_30d_s=58.1))[2].status == "MISS"
    assert evaluate_targets({**report, "incremental_ratio_pairs": [1.3, 1.2, 1.4]})[2].status == "MISS"
    # unpaired attempts (a failed or a missing night, different counts) give no pairs
    assert paired_ratios({**runs, "incremental_30d": night(57.6, 62.5)}) == []
    assert paired_ratios({**runs, "incremental": night(68.0, 76.2, 79.5, ok=False)}) == []
    assert paired_ratios({"incremental": night(68.0)}) == []


def test_history_costs_rank_the_steps_by_what_the_long_history_adds():
    from bench.report import history_costs

    night = {"ok": True, "wall_s": 20.0, "peak_rss_bytes": 10**9}
    runs = {"incremental": {**night, "per_step_s": {"staging__events": 5.2, "raw_crm": 8.0, "staging__sessions": 1.9}},
            "incremental_30d": {**night, "per_step_s": {"staging__events": 1.4, "raw_crm": 8.3, "staging__sessions": 0.7,
                                                        "only_short": 0.1}}}
    report = {**_report(), "runs": runs}
    assert history_costs(report, top=2) == [("staging__events", 5.2, 1.4), ("staging__sessions", 1.9, 0.7)]
    assert history_costs(report)[-1] == ("raw_crm", 8.0, 8.3)  # faster with the long history: last
    assert history_costs({"runs": {"incremental": runs["incremental"]}}) == []
    medians = {phase: {**run, "per_step_median_s": {"staging__events": 4.0}} for phase, run in runs.items()}
    assert history_costs({"runs": medians}) == [("staging__events", 4.0, 4.0)]  # the medians when there are any
    report.update(date="2026-12-07T00:00:00+00:00", git={"commit": "a" * 40, "dirty": False}, errors=[],
                  machine={"cores": 2, "cpu_model": "cpu", "memory_bytes": 8 * 10**9, "python": "3.11", "versions": {}})
    report["targets"] = [t.as_dict() for t in evaluate_targets(report)]
    assert "| `staging__events` | 5.2s | 1.4s | +3.8s |" in render_markdown(report)
    assert "+3.8s" in render_console(report)
