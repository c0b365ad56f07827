"""Crash safety: SIGKILL the nightly run (during ingestion, segment build, publish, and at a random
moment), re-run, and get exactly what an uninterrupted run gives: every warehouse table, the export
files readers see through `latest`, and a publish log without duplicates.

One tiny sample and one config copy (destination minimums lowered to 1 so exports really publish) are
shared. Folder A gets one uninterrupted run (the reference). Folder B gets a chain of killed runs (each
later run first re-does what the kill before it interrupted) and then one run to completion. The
chain keeps the file within ~2-3 minutes; every kill leaves its state for the next run, so a defect
in recovering from any of them shows in B's final contents. Reference run and chain run side by side
(separate warehouses and instances; only the landing folder and config are shared, read-only).

CRASH_SEED=<int> replays the random kill delay (printed in failure messages).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import polars as pl
import pytest

from pipeline_helpers import (
    SAMPLE_END_DATE,
    KilledRun,
    PipelineDirs,
    export_tree,
    latest_links,
    latest_problems,
    make_config,
    make_sample,
    row_differences,
    run_and_kill,
    run_nightly,
    table_as_text,
    warehouse_tables,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash_safety")]

# Columns that legitimately differ between two runs of the same night, so they are left out:
#   _loaded_at (raw.* source tables), loaded_at (raw.load_log, raw.quarantine): wall-clock time of
#       the load, for audits; a day loaded by the killed run keeps the killed run's time.
#   run_id, logged_at (audiences.publish_log): which Dagster run wrote the row, and when (wall clock).
#   run_id, recorded_at (quality.segment_size_history): same, for the segment size history.
# Nothing else may differ: `published_at`, `first_published_at`, `last_published_at` are the data
# date by design (docs/tables.md: nothing is computed from the wall clock).
VOLATILE_COLUMNS = {"_loaded_at", "loaded_at", "run_id", "logged_at", "recorded_at"}

# (name, progress line that starts the phase, seconds to wait after it, step prefix the kill must hit)
KILL_POINTS = [
    ("ingestion", r"… raw__web_events$", 1.0, "raw"),
    ("segment build", r"… segments__contact_segments$", 0.3, "segments__"),
    ("publish", r"… exports__nurture_email$", 0.35, "exports__"),
]


@dataclass
class CrashOutcome:
    """Everything the assertions need: the two folders and what happened to each killed run."""

    reference: PipelineDirs
    crashed: PipelineDirs
    seed: int
    kills: list[tuple[str, str, KilledRun]] = field(default_factory=list)  # (name, expected prefix, run)
    latest_after_kill: dict[str, list[str]] = field(default_factory=dict)
    warehouse_errors: dict[str, str] = field(default_factory=dict)
    reference_seconds: float = 0.0


def _warehouse_opens(path: Path) -> str | None:
    """None when the DuckDB file (if any) opens and answers a query after a kill; the error otherwise."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path))  # read-write: a kill mid-write must leave a replayable WAL
        try:
            warehouse_tables(con)
        finally:
            con.close()
    except duckdb.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


LATEST_MOVED = object()  # stands for the trigger `_latest_moved` builds when its run starts


def _latest_moved(exports: Path) -> Callable[[], bool]:
    """A trigger that fires when any `latest` link appears or points elsewhere than it does now."""

    def targets() -> dict[Path, str]:
        return {link: os.readlink(link) for link in latest_links(exports)}

    before = targets()
    return lambda: targets().items() - before.items() != set()


@pytest.fixture(scope="module")
def crash(tmp_path_factory) -> CrashOutcome:
    """Run the reference (A) and the killed-then-completed chain (B) once for the whole module."""
    root = tmp_path_factory.mktemp("crash")
    landing = root / "landing"
    make_sample(landing)
    config = make_config(root / "config", min_size=1)
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    outcome = CrashOutcome(PipelineDirs.under(root / "a", landing, config),
                           PipelineDirs.under(root / "b", landing, config), seed)

    reference_error: list[BaseException] = []

    def run_reference() -> None:
        started = time.monotonic()
        try:
            run_nightly(outcome.reference)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            reference_error.append(exc)
        outcome.reference_seconds = time.monotonic() - started

    reference = threading.Thread(target=run_reference)
    reference.start()
    random_delay = random.Random(seed).uniform(3.0, 18.0)
    kills = [
        *KILL_POINTS,
        # the moment a `latest` link is created or moved: files published, publish log not yet written
        ("publish, right after `latest` moved", LATEST_MOVED, 0.0, "exports__"),
        (f"random moment ({random_delay:.1f}s after start, CRASH_SEED={seed})", None, random_delay, ""),
    ]
    for name, trigger, delay, prefix in kills:
        if trigger is LATEST_MOVED:  # compared with the links as they are when this run starts
            trigger = _latest_moved(outcome.crashed.exports)
        killed = run_and_kill(outcome.crashed, trigger, delay)
        if trigger is None and not killed.killed:
            # the night got quicker than the random range: a moment within the run just seen, same seed
            delay = random.Random(seed).uniform(1.0, 0.8 * killed.seconds)
            name = f"random moment ({delay:.1f}s after start, within a {killed.seconds:.0f}s run, CRASH_SEED={seed})"
            killed = run_and_kill(outcome.crashed, trigger, delay)
        outcome.kills.append((name, prefix, killed))
        outcome.latest_after_kill[name] = latest_problems(outcome.crashed.exports)
        error = _warehouse_opens(outcome.crashed.warehouse)
        if error:
            outcome.warehouse_errors[name] = error
    run_nightly(outcome.crashed)
    reference.join()
    if reference_error:
        raise reference_error[0]
    return outcome


def test_each_kill_hit_its_phase(crash: CrashOutcome):
    """The kills really happened mid-run, in the phase they were meant for (else the test proves nothing)."""
    for name, prefix, killed in crash.kills:
        assert killed.killed, f"{name}: the run finished before the kill (seed {crash.seed}):\n" + "\n".join(killed.lines[-15:])
        steps = killed.started_steps()
        if not prefix:
            continue  # the random kill may land anywhere, start-up included
        assert steps, f"{name}: killed before any step started:\n" + "\n".join(killed.lines[-15:])
        assert steps[-1].startswith(prefix), (
            f"{name}: the last step started before the kill was {steps[-1]!r}, expected a {prefix}* step "
            f"(seed {crash.seed})")


def test_warehouse_survives_every_kill_and_latest_stays_complete(crash: CrashOutcome):
    """After each SIGKILL the DuckDB file opens, and every `latest` link points at a complete publish."""
    assert crash.warehouse_errors == {}
    assert {name: problems for name, problems in crash.latest_after_kill.items() if problems} == {}


def _normalised(con: duckdb.DuckDBPyConnection, table: str, export_dir: Path) -> pl.DataFrame:
    frame = table_as_text(con, table, VOLATILE_COLUMNS)
    if table == "audiences.publish_log":
        # path: absolute folder under this run's EXPORT_DIR; the manifest.json digest covers the
        # manifest's run_id. Both are compared without the part that names the run or the folder.
        frame = frame.with_columns(
            pl.col("path").str.replace(str(export_dir), "EXPORT_DIR", literal=True),
            pl.col("sha256s").str.replace(r'"manifest\.json":\s*"[0-9a-f]{64}"', '"manifest.json": "(run_id)"'),
        )
    return frame


def _table_differences(crash: CrashOutcome, only: set[str] | None = None, skip: set[str] = frozenset()) -> str:
    """"" when the tables (all, or `only`, minus `skip`) hold the same rows in A and B; else a report."""
    a = duckdb.connect(str(crash.reference.warehouse), read_only=True)
    b = duckdb.connect(str(crash.crashed.warehouse), read_only=True)
    try:
        tables = warehouse_tables(a)
        assert "audiences.publish_log" in tables and "raw.web_events" in tables
        assert warehouse_tables(b) == tables
        differing = {}
        for table in tables:
            if (only is not None and table not in only) or table in skip:
                continue
            diff = row_differences(_normalised(a, table, crash.reference.exports),
                                   _normalised(b, table, crash.crashed.exports))
            if diff.height:
                differing[table] = diff.head(6)
    finally:
        a.close()
        b.close()
    if not differing:
        return ""
    with pl.Config(tbl_cols=-1, tbl_width_chars=400, fmt_str_lengths=40):
        return (f"tables differ after kills + re-run (copies_left = uninterrupted run, copies_right = after "
                f"kills; seed {crash.seed}):\n" + "\n".join(f"{t}:\n{d}" for t, d in differing.items()))


def test_warehouse_contents_equal_the_uninterrupted_run(crash: CrashOutcome):
    """Every table in A equals the same table in B, row for row (order-independent, duplicates counted),
    without the VOLATILE_COLUMNS; B has no table A lacks. (This found two bugs, now fixed: a publish
    logged as 'unchanged' after a kill between the `latest` swap and the log, and a second set of
    segment sizes recorded by the killed attempt of a night.)"""
    report = _table_differences(crash)
    assert not report, report


def test_exports_equal_the_uninterrupted_run(crash: CrashOutcome):
    """Same publish folders and `latest` targets; the files behind `latest` are byte-identical (the
    manifest compared without its run_id); no temporary folders or links are left over."""
    a, b = crash.reference.exports, crash.crashed.exports
    assert export_tree(b) == export_tree(a)
    links = latest_links(a)
    assert links, "the reference run published nothing: lower min_size further or use a larger sample"
    for link in links:
        rel = link.relative_to(a)
        for name in ("audience.csv", "adds.csv", "removes.csv"):
            assert (b / rel / name).read_bytes() == (link / name).read_bytes(), f"{rel}/{name} differs"
        manifests = [json.loads((root / rel / "manifest.json").read_text(encoding="utf-8")) for root in (a, b)]
        for manifest in manifests:
            manifest.pop("run_id")
        assert manifests[0] == manifests[1], f"{rel}/manifest.json differs beyond its run_id"
    assert not [p for p in b.rglob("*") if ".tmp" in p.name], "temporary publish folders or links left over"


def test_publish_log_has_one_row_per_destination_for_the_night(crash: CrashOutcome):
    """The killed runs and the re-run together logged each (audience, destination) once for the night."""
    con = duckdb.connect(str(crash.crashed.warehouse), read_only=True)
    try:
        duplicates = con.execute(
            "select audience, destination, count(*) as n, list(status) as statuses from audiences.publish_log "
            "where data_date = $night group by all having count(*) > 1 order by all",
            {"night": SAMPLE_END_DATE},
        ).fetchall()
        published = con.execute(
            "select count(*) from audiences.publish_log where data_date = $night and status = 'published'",
            {"night": SAMPLE_END_DATE},
        ).fetchone()[0]
    finally:
        con.close()
    assert duplicates == []
    assert published > 0, "nothing was published: the test would not see a crash during publish"


# ---- the comparison helpers themselves (fast; they must be able to fail) ------------------------

def test_row_differences_counts_copies_and_ignores_order():
    left = pl.DataFrame({"n": ["1", "2", "2", None]})
    assert row_differences(left, left.reverse()).height == 0
    diff = row_differences(left, pl.DataFrame({"n": ["1", "2", None, None]}))
    assert sorted(diff.rows(), key=str) == sorted([("2", 2, 1), (None, 1, 2)], key=str)
    with pytest.raises(AssertionError, match="different columns"):
        row_differences(left, left.rename({"n": "m"}))


def test_latest_problems_sees_dangling_and_tampered_publishes(tmp_path: Path):
    folder = tmp_path / "aud" / "meta"
    publish = folder / "2026-11-20-01-abcdef12"
    publish.mkdir(parents=True)
    files = {name: f"{name}\n".encode() for name in ("audience.csv", "adds.csv", "removes.csv")}
    for name, data in files.items():
        (publish / name).write_bytes(data)
    manifest = {"files": {name: {"sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()}}
    (publish / "manifest.json").write_text(json.dumps(manifest))
    (folder / "latest").symlink_to(publish.name)
    assert latest_problems(tmp_path) == []
    (publish / "adds.csv").write_bytes(b"changed\n")
    assert latest_problems(tmp_path) == [f"{folder / 'latest'}/adds.csv: sha256 differs from manifest.json"]
    (folder / "latest").unlink()
    (folder / "latest").symlink_to(".tmp-2026-11-20-02-00000000-123")
    assert "does not exist" in latest_problems(tmp_path)[0]
