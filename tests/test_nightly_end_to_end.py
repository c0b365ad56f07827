"""The whole nightly job, as a user runs it (`python -m workflows.cli run`), on a generated sample in
tmp_path: every layer fills, a re-run of the same night changes nothing, and a night whose segment
table fails its blocking checks publishes nothing while the previous exports stay exactly as they were.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from sample.generate import generate
from workflows.instance import ensure_instance
from workflows.settings import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("end_to_end")]
# Like `make run`'s sample, ending yesterday: the run has no data date, so freshness is measured
# against today and a fixed past date would (rightly) block the night as stale.
END_DATE = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
# Columns that legitimately differ between two runs of the same night: run ids and wall-clock stamps.
RUN_SPECIFIC = {"run_id", "logged_at", "_loaded_at", "loaded_at", "recorded_at", "file_mtime"}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workflows.cli", "run", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and symlink target) under root."""
    digest = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def table_digests(warehouse: Path) -> dict[str, str]:
    """schema.table -> a digest of its rows (order-independent), run-specific columns left out."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name <> 'quality' order by 1, 2"
        ).fetchall()
        for schema, name in tables:
            rel = con.table(f"{schema}.{name}")
            kept = [c for c in rel.columns if c not in RUN_SPECIFIC]
            rows = sorted(map(repr, rel.select(*kept).fetchall()))
            out[f"{schema}.{name}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """One finished nightly run on the `small` sample; returns (env, paths)."""
    root = tmp_path_factory.mktemp("nightly")
    generate(root / "landing", scale="small", seed=7, end_date=END_DATE)
    env = {
        **os.environ,
        "LANDING_DIR": str(root / "landing"),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "EXPORT_DIR": str(root / "exports"),
        "REPORT_DIR": str(root / "reports"),
        "DAGSTER_HOME": str(root / "dagster"),
    }
    env.pop("DATA_DATE", None)
    ensure_instance(root / "dagster")
    first = run_cli(env)
    assert first.returncode == 0, first.stdout + first.stderr
    return env, root, first


def test_every_layer_is_filled_and_summarised(night):
    env, root, first = night
    assert "Done in" in first.stdout
    for expected in ("raw.quarantine", "staging.sessions", "segments.contact_segments", "audiences.publish_log"):
        assert expected in first.stdout
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        for table in ("staging.contacts", "staging.sessions", "segments.account_segments",
                      "segments.contact_segments", "audiences.members"):
            assert con.table(table).aggregate("count(*)").fetchone()[0] > 0, table
        # nothing silently dropped: every contacts.csv data row is in raw or in quarantine
        with open(root / "landing" / "crm" / "contacts.csv", newline="", encoding="utf-8") as f:
            data_rows = sum(1 for _ in csv.reader(f)) - 1
        loaded = con.execute("select count(*) from raw.contacts").fetchone()[0]
        quarantined = con.execute("select count(*) from raw.quarantine where source = 'contacts'").fetchone()[0]
        assert loaded + quarantined == data_rows and quarantined >= 1
        # the data date is the newest landed day, not the wall clock
        assert con.execute("select max(data_date) from audiences.publish_log").fetchone()[0] == END_DATE
        published = con.execute("select count(*) from audiences.publish_log where status = 'published'").fetchone()[0]
        assert published >= 1
    finally:
        con.close()
    latest = list((root / "exports").glob("*/*/latest"))
    assert latest and all((link / "manifest.json").is_file() for link in latest)


def test_rerun_of_the_same_night_changes_nothing(night):
    env, root, _ = night
    tables_before, exports_before = table_digests(root / "warehouse.duckdb"), tree_digest(root / "exports")
    again = run_cli(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert table_digests(root / "warehouse.duckdb") == tables_before
    assert tree_digest(root / "exports") == exports_before


def test_failed_blocking_check_publishes_nothing(night):
    """A CRM export that lost its job titles makes every persona `other`: the contact_segments suite
    fails, audiences and exports do not run, and the published files stay exactly as they were."""
    env, root, _ = night
    exports_before = tree_digest(root / "exports")
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    log_before = con.execute("select count(*) from audiences.publish_log").fetchone()[0]
    con.close()

    contacts = root / "landing" / "crm" / "contacts.csv"
    original = contacts.read_bytes()
    with open(contacts, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys())
    for row in rows:
        row["job_title"] = ""
    try:
        with open(contacts, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        failed = run_cli(env)
    finally:
        contacts.write_bytes(original)

    assert failed.returncode == 1
    assert "contact_segments_expectations on segments/contact_segments failed" in failed.stderr
    assert "✓ exports__" not in failed.stderr and "✓ audiences__members" not in failed.stderr
    assert tree_digest(root / "exports") == exports_before
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from audiences.publish_log").fetchone()[0] == log_before
    finally:
        con.close()
    reports = list((root / "reports" / "validation" / "segments.contact_segments").glob("*.html"))
    assert reports and "persona" in reports[0].read_text(encoding="utf-8")
