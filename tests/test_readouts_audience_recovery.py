"""End to end: a KNOWN audience effect in generated data is recovered by readouts.audience_lift.

1. The `small` sample up to the publish day P, and the nightly CLI run on P: audiences are published
   (audiences.memberships, first_published_at = P, groups by the holdout hash).
2. `sample.outcomes.write_audience_outcomes` writes what the members did after P into the landing
   folder's CRM: in `nurture-general` the treatment converts at 2x the holdout rate (sample.effects), in
   `upsell-decision-makers` at the same rate (no effect).
3. The CRM is reloaded (the real raw loader and staging SQL) and the readout runs on later data dates:
   while the 90-day windows are open it says "not enough data yet"; on P + 89 (the first night on which
   every window has ended, the readout's rule) it measures, and the known lift is inside its interval.

The readout config is the repo's, except that `nurture-general` matches deals by contact: with the
default account match, holdout prospects share their account's deals with treated colleagues (about six
members per account here), which shrinks the measured lift towards 0 (a lower bound, by design).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from dagster import materialize

from assets.audiences.definitions import load_audiences
from assets.raw.crm_load import load_crm
from assets.readouts.assets import audience_lift as audience_lift_asset
from assets.readouts.assets import readout_report
from assets.readouts.audience_lift import LIFT, NO_DIFFERENCE, NOT_ENOUGH, audience_lift
from assets.readouts.readout_config import load_readout_config
from assets.staging.models import build_model
from assets.staging.web_rules import load_web_rules
from pipeline_helpers import SAMPLE_END_DATE, PipelineDirs, make_config, make_sample, run_nightly
from sample import effects
from sample.outcomes import member_groups, write_audience_outcomes
from workflows.resources import Folders, Warehouse

pytestmark = pytest.mark.xdist_group("readouts_audience_recovery")  # one nightly run, one worker
PUBLISHED = SAMPLE_END_DATE          # the nightly run's data date: the day the audiences are first published
WINDOW_DAYS = 90                     # config/readouts.yaml audience_lift.outcome_window_days
MEASURED = PUBLISHED + dt.timedelta(days=WINDOW_DAYS - 1)  # window [P, P + 90 days) has ended at its end
EFFECT, NULL = "nurture-general", "upsell-decision-makers"
MULTIPLES = {EFFECT: effects.AUDIENCE_LIFT_MULTIPLE, NULL: 1.0}


def _contact_match(config_dir: Path, audience: str) -> None:
    """Count only the member's own deals for `audience` (readouts.yaml audience_outcomes override)."""
    path = config_dir / "readouts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["audience_lift"].setdefault("audience_outcomes", {})[audience] = {"match": "contact"}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> PipelineDirs:
    """The small sample up to P, after the nightly run on P (audiences published)."""
    root = tmp_path_factory.mktemp("audience_recovery")
    make_sample(root / "landing", scale="small", end_date=PUBLISHED)
    config = make_config(root / "config")
    _contact_match(config, EFFECT)
    dirs = PipelineDirs.under(root / "run", root / "landing", config)
    run_nightly(dirs)
    return dirs


def _memberships(dirs: PipelineDirs) -> pl.DataFrame:
    with duckdb.connect(str(dirs.warehouse), read_only=True) as con:
        return con.table("audiences.memberships").pl()


def _holdout_shares(dirs: PipelineDirs) -> dict[str, float]:
    return {a.name: a.holdout_share for a in load_audiences(dirs.config)}


def _outcomes_as_of(dirs: PipelineDirs, as_of: dt.date) -> pl.DataFrame:
    """Write the post-publish CRM as of `as_of` and reload it as the nightly run would (raw CRM load,
    staging.opportunities); the generator's per-member truth."""
    truth = write_audience_outcomes(dirs.landing, _memberships(dirs), PUBLISHED, as_of, MULTIPLES,
                                    _holdout_shares(dirs), scale="small")
    with duckdb.connect(str(dirs.warehouse)) as con:
        load_crm(con, dirs.landing, dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(2)), dirs.config)
        build_model(con, "opportunities", load_web_rules(dirs.config), as_of)
    return truth


def _lift_rows(dirs: PipelineDirs, data_date: dt.date) -> dict[str, dict]:
    with duckdb.connect(str(dirs.warehouse)) as con:
        table = audience_lift(con, data_date, load_readout_config(dirs.config))
    return {r["audience"]: r for r in table.iter_rows(named=True)}


def test_the_generator_assigns_the_pipelines_holdout_groups(published):
    members = _memberships(published)
    assert {EFFECT, NULL} <= set(members["audience"])
    assert set(members["first_published_at"]) == {dt.datetime.combine(PUBLISHED, dt.time())}
    ours = member_groups(members.select("audience", "contact_id"), _holdout_shares(published))
    assert ours.join(members, on=["audience", "contact_id"]).filter(pl.col("group") != pl.col("group_right")).is_empty()


def test_a_known_audience_lift_is_recovered_and_no_effect_is_not_significant(published, tmp_path):
    dirs = published
    # A month after the publish: deals are coming in, but no member's 90-day window has ended.
    _outcomes_as_of(dirs, PUBLISHED + dt.timedelta(days=30))
    for row in _lift_rows(dirs, PUBLISHED + dt.timedelta(days=30)).values():
        assert row["verdict"] == NOT_ENOUGH and row["n_treatment"] == 0, row
        assert "still inside their window" in row["reason"] and row["rel_lift"] is None
    # The day before the windows end: still not enough (the readout does not peek).
    truth = _outcomes_as_of(dirs, MEASURED)
    early = _lift_rows(dirs, MEASURED - dt.timedelta(days=1))
    assert {early[a]["verdict"] for a in MULTIPLES} == {NOT_ENOUGH}

    # The first night every window has ended: the readout asset measures.
    resources = {"warehouse": Warehouse(path=str(dirs.warehouse)),
                 "folders": Folders(landing_dir=str(dirs.landing), export_dir=str(dirs.exports),
                                    report_dir=str(dirs.reports), config_dir=str(dirs.config))}
    result = materialize([audience_lift_asset, readout_report], resources=resources,
                         tags={"data_date": MEASURED.isoformat()})
    assert result.success
    rows = _lift_rows(dirs, MEASURED)
    with duckdb.connect(str(dirs.warehouse), read_only=True) as con:
        stored = {r["audience"]: r for r in con.table("readouts.audience_lift").pl().iter_rows(named=True)}
    assert stored[EFFECT] == rows[EFFECT]

    # The counts are the generator's: every member's window has ended, conversions are its draws.
    counts = truth.group_by("audience", "group").agg(pl.len().alias("n"), pl.col("converts").sum().alias("x"))
    expected = {(a, g): (n, x) for a, g, n, x in counts.iter_rows()}
    effect, null = rows[EFFECT], rows[NULL]
    assert (effect["n_treatment"], effect["conversions_treatment"]) == expected[(EFFECT, "treatment")]
    assert (effect["n_holdout"], effect["conversions_holdout"]) == expected[(EFFECT, "holdout")]
    assert effect["n_holdout"] >= 100 and null["n_holdout"] >= 100  # enough for a verdict by config

    true_rel = effects.AUDIENCE_LIFT_MULTIPLE - 1
    true_abs = effects.AUDIENCE_HOLDOUT_CONVERSION * (effects.AUDIENCE_LIFT_MULTIPLE - 1)
    assert effect["verdict"] == LIFT and effect["p_value"] < 0.05
    assert effect["rel_lift_ci_low"] < true_rel < effect["rel_lift_ci_high"], effect
    assert effect["diff_ci_low"] < true_abs < effect["diff_ci_high"], effect
    assert effect["rel_lift_ci_low"] > 0 and effect["diff_ci_low"] > 0

    # No effect: not significant, and the intervals hold the true 0.
    assert null["verdict"] == NO_DIFFERENCE and null["p_value"] >= 0.05, null
    assert null["rel_lift_ci_low"] < 0 < null["rel_lift_ci_high"] and null["diff_ci_low"] < 0 < null["diff_ci_high"]

    page = (dirs.reports / "readouts" / f"{MEASURED}.html").read_text(encoding="utf-8")
    assert EFFECT in page and "significant lift" in page and "rel lift [CI]" in page
