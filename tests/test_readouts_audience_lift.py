"""Audience lift on hand-made memberships and opportunities (real SQL on a tmp DuckDB file)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.readouts.audience_lift import (
    DROP, LIFT, NO_DIFFERENCE, NOT_ENOUGH, audience_lift, evaluate_audiences, member_conversions,
)
from assets.readouts.readout_config import load_readout_config
from assets.readouts.report import lift_md, render_html
from assets.sql_files import run_sql
from test_upsell import STAGING_DDL
from workflows.settings import REPO_ROOT

DATA_DATE = dt.date(2026, 6, 30)
PUBLISHED = dt.datetime(2026, 1, 1)


def write_config(folder: Path, **lift_changes) -> Path:
    """A copy of config/readouts.yaml with audience_lift keys replaced."""
    data = yaml.safe_load((REPO_ROOT / "config" / "readouts.yaml").read_text())
    data["audience_lift"].update(lift_changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "readouts.yaml").write_text(yaml.safe_dump(data))
    return folder


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(STAGING_DDL)
    run_sql(con, "audiences/create_tables")  # the real audiences.memberships schema
    return con


def add_members(con, audience: str, n_treatment: int, n_holdout: int, published=PUBLISHED, prefix: str = "") -> pl.DataFrame:
    """Members c<prefix><i>, one account each (a<prefix><i>) unless stated; returns the frame inserted."""
    n = n_treatment + n_holdout
    ids = [f"c{prefix}{i}" for i in range(n)]
    members = pl.DataFrame({
        "audience": [audience] * n, "contact_id": ids,
        "group": ["treatment"] * n_treatment + ["holdout"] * n_holdout,
        "first_published_at": [published] * n, "last_published_at": [published] * n,
    })
    con.from_arrow(members.to_arrow()).insert_into("audiences.memberships")
    contacts = pl.DataFrame({"contact_id": ids, "account_id": [f"a{prefix}{i}" for i in range(n)]})
    con.execute("insert into staging.contacts (contact_id, account_id) select * from contacts")
    del contacts
    return members


def add_opportunities(con, contact_ids, created: dt.datetime, kind: str = "new_business", won: bool = False,
                      closed: dt.datetime | None = None, by_account: bool = False, tag: str = "o") -> None:
    """One opportunity per contact (attached to the contact, or only to its account)."""
    ids = list(contact_ids)
    frame = pl.DataFrame({
        "opportunity_id": [f"{tag}{i}" for i in range(len(ids))],
        "account_id": [f"a{c[1:]}" for c in ids],
        "contact_id": [None if by_account else c for c in ids],
        "type": [kind] * len(ids), "created_at": [created] * len(ids),
        "closed_at": [closed] * len(ids), "is_won": [won] * len(ids), "is_closed": [closed is not None] * len(ids),
    }, schema_overrides={"contact_id": pl.String, "closed_at": pl.Datetime("us")})
    con.execute("insert into staging.opportunities (opportunity_id, account_id, contact_id, type, created_at, "
                "closed_at, is_won, is_closed) select * from frame")


def test_a_known_lift_is_recovered(tmp_path):
    con = warehouse(tmp_path)
    members = add_members(con, "nurture-seo", 4000, 4000)
    rng = np.random.default_rng(11)
    true = {"treatment": 0.15, "holdout": 0.10}
    converts = members.filter(pl.Series(rng.random(members.height)) < pl.col("group").replace_strict(true))
    add_opportunities(con, converts["contact_id"], PUBLISHED + dt.timedelta(days=20))
    config = load_readout_config(write_config(tmp_path / "config"))
    row = audience_lift(con, DATA_DATE, config).row(0, named=True)
    assert (row["n_treatment"], row["n_holdout"]) == (4000, 4000)
    assert row["verdict"] == LIFT
    assert row["diff_ci_low"] < 0.05 < row["diff_ci_high"]
    assert row["diff_ci_low"] > 0 and row["p_value"] < 0.05
    assert row["rel_lift"] == pytest.approx(row["rate_treatment"] / row["rate_holdout"] - 1)
    # the relative lift has its own (Katz) interval: the true 0.15 / 0.10 - 1 = 0.5 is inside, 0 is not
    assert 0 < row["rel_lift_ci_low"] < 0.5 < row["rel_lift_ci_high"]
    assert row["rel_lift_ci_low"] < row["rel_lift"] < row["rel_lift_ci_high"]
    assert row["outcome"].startswith("new_business or upsell opportunity created within 90 days")


def test_no_true_lift_is_rarely_significant(tmp_path):
    """200 null audiences through the real SQL: the false-positive rate is near the 5% level."""
    con = warehouse(tmp_path)
    rng = np.random.default_rng(2026)
    n_sims, size = 200, 400
    members = pl.concat([add_members(con, f"null-{s}", size, size, prefix=f"{s}_") for s in range(n_sims)])
    converts = members.filter(pl.Series(rng.random(members.height)) < 0.1)
    add_opportunities(con, converts["contact_id"], PUBLISHED + dt.timedelta(days=5))
    config = load_readout_config(write_config(tmp_path / "config", min_n_per_group=100))
    table = audience_lift(con, DATA_DATE, config)
    assert table.height == n_sims
    significant = table["verdict"].is_in([LIFT, DROP]).mean()
    assert 0.01 <= significant <= 0.10
    assert set(table["verdict"]) <= {LIFT, DROP, NO_DIFFERENCE}


def test_opportunities_outside_the_window_or_before_publish_do_not_count(tmp_path):
    con = warehouse(tmp_path)
    add_members(con, "aud", 3, 0)
    add_opportunities(con, ["c0"], PUBLISHED - dt.timedelta(days=1), tag="before")   # before the publish
    add_opportunities(con, ["c1"], PUBLISHED + dt.timedelta(days=90), tag="late")    # day 90: outside [0, 90)
    add_opportunities(con, ["c2"], PUBLISHED + dt.timedelta(days=89), kind="renewal", tag="kind")  # wrong type
    config = load_readout_config(write_config(tmp_path / "config"))
    assert member_conversions(con, DATA_DATE, config)["converted"].to_list() == [False, False, False]
    add_opportunities(con, ["c2"], PUBLISHED + dt.timedelta(days=89), tag="in")
    assert member_conversions(con, DATA_DATE, config)["converted"].to_list() == [False, False, True]


def test_account_match_counts_a_colleagues_deal_and_contact_match_does_not(tmp_path):
    con = warehouse(tmp_path)
    add_members(con, "aud", 1, 0)
    add_opportunities(con, ["c0"], PUBLISHED + dt.timedelta(days=3), by_account=True)
    by_account = load_readout_config(write_config(tmp_path / "a", outcome={
        "event": "created", "opportunity_types": ["new_business"], "match": "account"}))
    by_contact = load_readout_config(write_config(tmp_path / "c", outcome={
        "event": "created", "opportunity_types": ["new_business"], "match": "contact"}))
    assert member_conversions(con, DATA_DATE, by_account)["converted"].to_list() == [True]
    assert member_conversions(con, DATA_DATE, by_contact)["converted"].to_list() == [False]


def test_won_outcome_needs_a_win_inside_the_window_and_overrides_apply_per_audience(tmp_path):
    con = warehouse(tmp_path)
    add_members(con, "upsell-decision-makers", 2, 0, prefix="u")
    add_members(con, "other", 2, 0, prefix="x")
    created = PUBLISHED + dt.timedelta(days=10)
    add_opportunities(con, ["cu0"], created, kind="upsell", won=True, closed=created + dt.timedelta(days=30), tag="w")
    add_opportunities(con, ["cu1"], created, kind="upsell", won=False, closed=created + dt.timedelta(days=30), tag="l")
    add_opportunities(con, ["cx0"], created, kind="new_business", tag="n")
    config = load_readout_config(write_config(tmp_path / "config"))  # the repo's override: upsell won
    conversions = member_conversions(con, DATA_DATE, config).select("contact_id", "converted").rows()
    assert dict(conversions) == {"cu0": True, "cu1": False, "cx0": True, "cx1": False}
    outcomes = dict(audience_lift(con, DATA_DATE, config).select("audience", "outcome").rows())
    assert outcomes["upsell-decision-makers"].startswith("upsell opportunity won")


def test_window_not_elapsed_means_not_enough_data_yet(tmp_path):
    con = warehouse(tmp_path)
    add_members(con, "fresh", 500, 500, published=dt.datetime(2026, 5, 1))
    config = load_readout_config(write_config(tmp_path / "config"))
    row = audience_lift(con, DATA_DATE, config).row(0, named=True)
    assert row["verdict"] == NOT_ENOUGH
    assert (row["members_treatment"], row["n_treatment"]) == (500, 0)
    assert "1000 members still inside their window" in row["reason"]
    assert row["p_value"] is None and row["abs_lift"] is None and row["diff_ci_low"] is None
    assert row["rel_lift"] is None and row["rel_lift_ci_low"] is None and row["rel_lift_ci_high"] is None


def test_too_few_members_or_no_holdout_is_not_enough_data(tmp_path):
    members = pl.DataFrame({
        "audience": ["small"] * 60 + ["no-holdout"] * 300,
        "group": ["treatment"] * 50 + ["holdout"] * 10 + ["treatment"] * 300,
        "first_published_at": [PUBLISHED] * 360, "window_complete": [True] * 360, "converted": [True, False] * 180,
    })
    config = load_readout_config(write_config(tmp_path / "config"))
    table = evaluate_audiences(members, config)
    reasons = dict(table.select("audience", "reason").rows())
    assert set(table["verdict"]) == {NOT_ENOUGH}
    assert "no holdout" in reasons["no-holdout"]
    assert "50 treatment and 10 holdout" in reasons["small"]


def test_nothing_published_yet_gives_an_empty_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(STAGING_DDL)
    table = audience_lift(con, DATA_DATE, load_readout_config(write_config(tmp_path / "config")))
    assert table.is_empty() and "verdict" in table.columns


def test_members_frame_without_required_columns_is_rejected(tmp_path):
    config = load_readout_config(write_config(tmp_path / "config"))
    with pytest.raises(ValueError, match="window_complete"):
        evaluate_audiences(pl.DataFrame({"audience": ["a"], "group": ["treatment"], "converted": [True],
                                         "first_published_at": [PUBLISHED]}), config)


@pytest.mark.parametrize("changes, where", [
    ({"outcome": {"event": "closed", "opportunity_types": ["upsell"], "match": "account"}}, "audience_lift.outcome.event"),
    ({"outcome": {"event": "won", "opportunity_types": ["upsel"], "match": "account"}}, "opportunity_types[0]"),
    ({"outcome": {"event": "won", "opportunity_types": [], "match": "account"}}, "opportunity_types"),
    ({"outcome": {"event": "won", "opportunity_types": ["upsell"], "match": "domain"}}, "audience_lift.outcome.match"),
    ({"audience_outcomes": {"x": {"evnt": "won"}}}, "audience_outcomes.x"),
    ({"min_n_per_group": 0}, "audience_lift.min_n_per_group"),
    ({"outcome_window_days": "90"}, "audience_lift.outcome_window_days"),
])
def test_bad_audience_config_names_file_and_key(tmp_path, changes, where):
    with pytest.raises(ConfigError) as error:
        load_readout_config(write_config(tmp_path, **changes))
    assert "readouts.yaml" in str(error.value) and where in str(error.value)


def test_the_relative_lift_interval_is_in_the_markdown_and_the_html_report(tmp_path):
    members = pl.DataFrame({
        "audience": ["aud"] * 2000, "group": ["treatment"] * 1000 + ["holdout"] * 1000,
        "first_published_at": [PUBLISHED] * 2000, "window_complete": [True] * 2000,
        "converted": [True] * 200 + [False] * 800 + [True] * 100 + [False] * 900,
    })
    row = evaluate_audiences(members, load_readout_config(write_config(tmp_path / "config"))).row(0, named=True)
    assert row["rel_lift"] == pytest.approx(1.0)
    interval = f"[{100 * row['rel_lift_ci_low']:.1f}%, {100 * row['rel_lift_ci_high']:.1f}%]"
    table = pl.DataFrame([row])
    assert f"100.0% {interval}" in lift_md(table)
    criteria = pl.DataFrame(schema={"lift_ci_high": pl.Float64, "outcome_window_days": pl.Int64})
    assert "rel lift [CI]" in render_html(DATA_DATE, criteria, table, []) and interval in render_html(
        DATA_DATE, criteria, table, [])
