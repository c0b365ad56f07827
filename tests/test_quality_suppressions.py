"""The blocking suppression check, for real: the generated sample's CRM files are loaded by the raw
asset, staging.suppressions is built by its asset, and `suppressions_not_lost` runs on it night after
night in `dagster.materialize`. A stand-in downstream asset shows whether the night was blocked."""
# No `from __future__ import annotations`: Dagster reads the context type hint at definition time.

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetExecutionContext, AssetKey, MaterializeResult, asset, materialize

from assets.raw.assets import raw_crm
from assets.staging.assets import suppressions as staging_suppressions
from data_quality.checks import build_quality_checks, build_suppression_check
from data_quality.passed_nights import mark_night_passed
from data_quality.suppression_monitor import suppression_verdict
from pipeline_helpers import SAMPLE_END_DATE, make_sample
from workflows.resources import Folders, Warehouse

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
NIGHTS = [SAMPLE_END_DATE + dt.timedelta(days=d) for d in range(4)]


@asset(key=AssetKey(["audiences", "stand_in"]), deps=[AssetKey(["staging", "suppressions"])])
def downstream_publish(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """Stands in for the audiences and exports: a marker file, and the night marked passed as the
    real export assets do (it only runs when the blocking check passed)."""
    folders.exports.mkdir(parents=True, exist_ok=True)
    (folders.exports / "published.txt").write_text(context.run.run_id)
    with warehouse.connect() as con:
        mark_night_passed(con, dt.date.fromisoformat(context.run.tags["data_date"]), context.run.run_id)
    return MaterializeResult()


class Nights:
    """A sample landing folder, a config copy and a warehouse in tmp_path; `run(night)` loads the CRM
    files, builds staging.suppressions and runs the check."""

    def __init__(self, tmp: Path):
        self.tmp, self.landing = tmp, tmp / "landing"
        make_sample(self.landing)
        self.config = tmp / "config"
        shutil.copytree(REPO_CONFIG, self.config)
        self.file = self.landing / "crm" / "suppressions.csv"
        self.original = self.file.read_text(encoding="utf-8")

    def keep_rows(self, n: int) -> None:
        """Rewrite crm/suppressions.csv with only its header and first `n` rows."""
        rows = list(csv.reader(self.original.splitlines()))
        with self.file.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows[: n + 1])

    def run(self, night: dt.date):
        resources = {
            "warehouse": Warehouse(path=str(self.tmp / "warehouse.duckdb")),
            "folders": Folders(landing_dir=str(self.landing), export_dir=str(self.tmp / "exports"),
                               report_dir=str(self.tmp / "reports"), config_dir=str(self.config)),
        }
        return materialize([raw_crm, staging_suppressions, build_suppression_check(), downstream_publish],
                           resources=resources, tags={"data_date": night.isoformat()}, raise_on_error=False)

    def published_by(self) -> str:
        return (self.tmp / "exports" / "published.txt").read_text()


def check_of(result):
    found = [e for e in result.get_asset_check_evaluations() if e.check_name == "suppressions_not_lost"]
    assert len(found) == 1
    return found[0]


def test_a_missing_or_truncated_suppression_file_blocks_until_the_list_is_back(tmp_path):
    nights = Nights(tmp_path)
    full = len(nights.original.splitlines()) - 1
    assert full >= 10

    first = nights.run(NIGHTS[0])
    check = check_of(first)
    assert first.success and check.passed and check.metadata["suppressed_emails"].value > 0
    baseline = check.metadata["suppressed_emails"].value
    assert "no earlier successful night" in check.description

    nights.file.unlink()                                    # the optional file is gone tonight
    missing = nights.run(NIGHTS[1])
    check = check_of(missing)
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert check.metadata["file_present"].value is False and check.metadata["suppressed_emails"].value == 0
    assert "crm/suppressions.csv is missing tonight" in check.description
    assert f"{baseline:,} suppressed emails were loaded on {NIGHTS[0]}" in check.description
    assert nights.published_by() == first.run_id            # blocked: nothing downstream ran

    nights.keep_rows(2)                                     # back, but truncated to 2 rows
    truncated = check_of(nights.run(NIGHTS[2]))
    assert not truncated.passed and truncated.metadata["file_present"].value is True
    assert "Only 2 suppressed emails tonight" in truncated.description and "50%" in truncated.description
    assert truncated.metadata["previous_data_date"].value == str(NIGHTS[0])   # not the blocked night 2
    assert nights.published_by() == first.run_id

    nights.keep_rows(full - 2)                              # two people fewer: a normal change
    restored = nights.run(NIGHTS[3])
    check = check_of(restored)
    assert restored.success and check.passed and check.metadata["previous_data_date"].value == str(NIGHTS[0])
    assert nights.published_by() == restored.run_id
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        history = con.execute("select data_date, file_present from quality.suppression_history order by 1").fetchall()
    assert history == [(NIGHTS[0], True), (NIGHTS[1], False), (NIGHTS[2], True), (NIGHTS[3], True)]


@pytest.mark.parametrize("n, present, previous, share, passed", [
    (0, False, None, 50, True),                         # never had a list: nothing to lose
    (0, False, (NIGHTS[0], 0), 50, True),               # the last good night had none either
    (0, False, (NIGHTS[0], 40), 50, False),             # the file vanished
    (0, True, (NIGHTS[0], 40), 50, False),              # the file was emptied
    (19, True, (NIGHTS[0], 40), 50, False),             # below half
    (20, True, (NIGHTS[0], 40), 50, True),              # exactly half
    (0, False, (NIGHTS[0], 40), 0, True),               # retired on purpose (share 0 for one night)
])
def test_suppression_verdict(n, present, previous, share, passed):
    verdict = suppression_verdict(n, present, previous, share)
    assert verdict.passed is passed
    if not passed:
        assert "suppressions.min_share_of_previous_percent" in verdict.message


def test_the_suppression_check_is_part_of_the_package_checks():
    names = {(spec.asset_key.to_user_string(), spec.name) for c in build_quality_checks() for spec in c.check_specs}
    assert ("staging/suppressions", "suppressions_not_lost") in names
    specs = [spec for spec in build_suppression_check().check_specs]
    assert specs[0].blocking
