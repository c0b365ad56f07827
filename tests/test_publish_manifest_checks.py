"""The whole nightly job on the tiny sample (`python -m workflows.cli run`, as a user runs it): every
published manifest.json records that run's results of the blocking checks upstream of the export, the
night is marked as passed for tomorrow's baselines, and the new CRM suites and the suppression check
pass on clean data."""
from __future__ import annotations

import json

import duckdb
import pytest

from pipeline_helpers import SAMPLE_END_DATE, PipelineDirs, latest_links, make_config, make_sample, run_nightly

pytestmark = [pytest.mark.slow]

# Blocking checks upstream of every export (a subset: the suites, the monitors and the consent rule).
EXPECTED_CHECKS = {
    "raw/contacts:contacts_expectations",
    "raw/opportunities:opportunities_expectations",
    "raw/subscriptions:subscriptions_expectations",
    "raw/web_events:web_events_freshness",
    "staging/opportunities:opportunities_expectations",
    "staging/subscriptions:subscriptions_expectations",
    "staging/suppressions:suppressions_not_lost",
    "segments/contact_segments:contact_segments_expectations",
    "audiences/members:members_expectations",
    "audiences/members:consent_and_customer_rules",
}


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> PipelineDirs:
    root = tmp_path_factory.mktemp("manifest_checks")
    make_sample(root / "landing")
    dirs = PipelineDirs.under(root / "run", root / "landing", make_config(root / "config", min_size=1))
    run_nightly(dirs)
    return dirs


def test_every_manifest_records_the_blocking_checks_upstream_of_its_export(night):
    links = latest_links(night.exports)
    assert links, "nothing was published"
    for link in links:
        manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
        results = manifest["check_results"]
        assert EXPECTED_CHECKS <= set(results), f"{link}: {sorted(results)}"
        for key, entry in results.items():
            assert key == f"{entry['asset']}:{entry['check']}"
            assert entry["passed"] is True and entry["severity"] == "ERROR"
        # Warning checks (drift, volume, size skips) are not blocking: not recorded.
        assert not [k for k in results if k.endswith("_size_drift") or k.endswith("_daily_volume")]
        suite = results["segments/contact_segments:contact_segments_expectations"]
        assert suite["report"] == f"validation/segments.contact_segments/{SAMPLE_END_DATE}.html"
        assert (night.reports / suite["report"]).is_file()
        assert "report" not in results["audiences/members:consent_and_customer_rules"]


def test_the_published_night_is_the_next_baseline(night):
    with duckdb.connect(str(night.warehouse), read_only=True) as con:
        passed = con.execute("select data_date, run_id from quality.passed_nights").fetchall()
        published_run = con.execute("select distinct run_id from audiences.publish_log").fetchall()
        suppressions = con.execute("select file_present, n > 0 from quality.suppression_history").fetchall()
        recorded = con.execute("select distinct run_id from quality.segment_size_history").fetchall()
    assert [d for d, _ in passed] == [SAMPLE_END_DATE]
    assert [r for _, r in passed] == [r for (r,) in published_run] == [r for (r,) in recorded]
    assert suppressions == [(True, True)]
