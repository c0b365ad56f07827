"""Criteria performance on synthetic account-snapshots: snapshot dates, counts, verdicts, config errors;
the all-snapshots feature SQL against the segment's per-night feature SQL on edge-case warehouses."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.readouts.criteria_performance import (
    NOT_ENOUGH, NOT_SUPPORTED, PERFORMANCE_SCHEMA, SUPPORTED, evaluate_criteria, snapshot_dates,
    snapshots_account_features,
)
from assets.readouts.readout_config import load_readout_config
from assets.segments.upsell import FEATURE_SCHEMA, account_features, load_upsell_config
from workflows.settings import REPO_ROOT

UPSELL = load_upsell_config()


def write_config(folder: Path, **criteria_changes) -> Path:
    data = yaml.safe_load((REPO_ROOT / "config" / "readouts.yaml").read_text())
    data["upsell_criteria"].update(criteria_changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "readouts.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_snapshots_are_month_starts_with_complete_outcome_windows(tmp_path):
    rules = load_readout_config(write_config(tmp_path)).criteria  # window 90, 12 months, 30 days of history
    got = snapshot_dates(dt.date(2026, 6, 30), dt.date(2025, 11, 2), rules)
    # 2026-04-01 + 90 days = 2026-06-30: its window ends with the data date; 2025-12-01 has 29 days of events
    assert got == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert snapshot_dates(dt.date(2026, 6, 29), dt.date(2025, 11, 2), rules)[-1] == dt.date(2026, 3, 1)
    assert snapshot_dates(dt.date(2026, 6, 30), None, rules) == []
    short = load_readout_config(write_config(tmp_path / "s", history_months=2)).criteria
    assert snapshot_dates(dt.date(2026, 6, 30), dt.date(2020, 1, 1), short) == [dt.date(2026, 3, 1), dt.date(2026, 4, 1)]


def labelled(n: int, seed: int, rate_flagged: float, rate_unflagged: float) -> pl.DataFrame:
    """Customer account-snapshots: high_seat_utilization lifts success, every other criterion is noise."""
    rng = np.random.default_rng(seed)
    flagged = rng.random(n) < 0.3
    success = rng.random(n) < np.where(flagged, rate_flagged, rate_unflagged)
    frame = {c.column: rng.random(n) < 0.5 for c in UPSELL.criteria}
    frame["criterion_high_seat_utilization"] = flagged
    scored = pl.DataFrame(frame).with_columns(
        upsell_score=pl.sum_horizontal(pl.col(c.column).cast(pl.Float64) for c in UPSELL.criteria),
        as_of=pl.Series([dt.date(2026, 1 + i % 3, 1) for i in range(n)]),
        success=pl.Series(success),
    )
    return scored.with_columns(upsell_candidate=pl.col("upsell_score") >= 2)


def test_a_real_effect_is_supported_and_counts_add_up(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    frame = labelled(6000, 3, 0.3, 0.1)
    table = evaluate_criteria(frame, UPSELL, config)
    assert table.schema == pl.Schema(PERFORMANCE_SCHEMA)
    assert table["criterion"].to_list()[:len(UPSELL.criteria)] == [c.name for c in UPSELL.criteria]
    assert table["kind"].to_list()[len(UPSELL.criteria):] == ["candidate"] + ["score_band"] * 4
    row = table.filter(pl.col("criterion") == "high_seat_utilization").row(0, named=True)
    flagged = frame.filter("criterion_high_seat_utilization")
    assert row["n_flagged"] == flagged.height and row["n"] == 6000 and row["snapshots"] == 3
    assert row["successes_flagged"] == flagged["success"].sum()
    assert row["successes_unflagged"] == frame["success"].sum() - flagged["success"].sum()
    assert row["verdict"] == SUPPORTED and row["lift_ci_low"] < 3 < row["lift_ci_high"]
    assert row["precision"] == row["success_rate"]
    assert row["recall"] == pytest.approx(row["successes_flagged"] / frame["success"].sum())
    # the bands partition the customers
    bands = table.filter(pl.col("kind") == "score_band")
    assert bands["n_flagged"].sum() == 6000


def test_noise_criteria_are_mostly_not_supported(tmp_path):
    """Across 40 synthetic datasets, the five noise criteria are 'supported' at about the 5% level."""
    config = load_readout_config(write_config(tmp_path))
    supported = []
    for seed in range(40):
        table = evaluate_criteria(labelled(1500, 100 + seed, 0.2, 0.1), UPSELL, config)
        noise = table.filter((pl.col("kind") == "criterion") & (pl.col("criterion") != "high_seat_utilization"))
        supported += (noise["verdict"] == SUPPORTED).to_list()
    assert np.mean(supported) <= 0.08  # one-sided: the expected rate is 2.5%


def test_too_little_data_says_so_instead_of_printing_noise(tmp_path):
    config = load_readout_config(write_config(tmp_path, min_n_per_group=100, min_successes=10))
    table = evaluate_criteria(labelled(150, 5, 0.5, 0.1), UPSELL, config)
    row = table.filter(pl.col("criterion") == "high_seat_utilization").row(0, named=True)
    assert row["verdict"] == NOT_ENOUGH and "each group needs at least 100" in row["reason"]
    assert row["lift"] is None and row["p_value"] is None and row["ci_low"] is None
    assert row["success_rate"] is not None  # the observed rate is still shown
    few = labelled(2000, 6, 0.0, 0.0).with_columns(success=pl.arange(0, 2000) < 3)
    row = evaluate_criteria(few, UPSELL, config).row(0, named=True)
    assert row["verdict"] == NOT_ENOUGH and "3 successes" in row["reason"]


def test_no_snapshot_yet_gives_a_row_per_criterion_with_not_enough_data(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    empty = labelled(10, 1, 0.1, 0.1).clear()
    table = evaluate_criteria(empty, UPSELL, config)
    assert set(table["verdict"]) == {NOT_ENOUGH} and table["n"].to_list() == [0] * table.height
    assert "no customer account-snapshot" in table["reason"][0]


def test_a_criterion_that_predicts_fewer_upsells_is_not_supported(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    row = evaluate_criteria(labelled(6000, 9, 0.05, 0.2), UPSELL, config).row(0, named=True)
    assert row["verdict"] == NOT_SUPPORTED and "LESS" in row["reason"]


@pytest.mark.parametrize("changes, where", [
    ({"outcome_window_days": 0}, "upsell_criteria.outcome_window_days"),
    ({"snapshot_frequency": "weekly"}, "upsell_criteria.snapshot_frequency"),
    ({"history_months": 1.5}, "upsell_criteria.history_months"),
    ({"min_n_per_group": None}, "upsell_criteria.min_n_per_group"),
    ({"score_bands": [{"name": "x", "min": 2, "max": 1}]}, "score_bands[0].max"),
    ({"score_bands": [{"name": "x", "min": 0}, {"name": "x", "min": 1}]}, "band names must be unique"),
    ({"score_bands": [{"name": "x", "lower": 0}]}, "score_bands[0]"),
])
def test_bad_criteria_config_names_file_and_key(tmp_path, changes, where):
    with pytest.raises(ConfigError) as error:
        load_readout_config(write_config(tmp_path, **changes))
    assert "readouts.yaml" in str(error.value) and where in str(error.value)


def test_bad_confidence_level_is_rejected(tmp_path):
    data = yaml.safe_load((REPO_ROOT / "config" / "readouts.yaml").read_text())
    data["confidence_level"] = 95
    (tmp_path / "readouts.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="confidence_level"):
        load_readout_config(tmp_path)


# --- the all-snapshots feature SQL equals the segment's feature SQL run once per snapshot -------------

FEATURE_DDL = """
create schema staging;
create table staging.accounts (account_id varchar, created_at timestamp);
create table staging.contacts (contact_id varchar, account_id varchar);
create table staging.subscriptions (subscription_id varchar, account_id varchar, seats_purchased integer,
    seats_active integer, mrr double, started_at timestamp, ends_at timestamp, status varchar);
create table staging.opportunities (opportunity_id varchar, account_id varchar, type varchar,
    created_at timestamp, closed_at timestamp, is_won boolean, is_closed boolean);
create table staging.events (message_id varchar, event_date date, ts timestamp, type varchar, event varchar,
    contact_id varchar, page_path varchar, is_bot boolean);
"""
EQ_SNAPSHOTS = [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1),
                dt.date(2026, 7, 1)]


def _edge_case_warehouse(path: Path, seed: int) -> tuple[duckdb.DuckDBPyConnection, pl.DataFrame]:
    """Random staging tables crowded with the edges the point-in-time rules care about: events at the
    midnights where windows start and end, events landed late (and early), bots, anonymous events,
    contacts without an account or listed twice, case variants of page paths, cancelled subscriptions
    with and without an end, accounts created after their first subscription, opportunities closed
    with and without a date."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(path))
    con.execute(FEATURE_DDL)
    start = dt.datetime(2025, 10, 1)

    def moment(n: int) -> list[dt.datetime]:
        # half of them exactly at a window edge of some snapshot (a midnight), the rest anywhere
        edges = [dt.datetime.combine(s, dt.time()) + dt.timedelta(days=int(d))
                 for s in EQ_SNAPSHOTS for d in (-119, -120, -90, -89, -30, -29, 0, 1)]
        out = []
        for _ in range(n):
            if rng.random() < 0.5:
                out.append(edges[rng.integers(len(edges))] - dt.timedelta(seconds=int(rng.choice([0, 1]))))
            else:
                out.append(start + dt.timedelta(seconds=int(rng.integers(0, 300 * 86400))))
        return out

    accounts = [f"A{i:02d}" for i in range(40)]
    created = moment(len(accounts))
    con.executemany("insert into staging.accounts values (?, ?)",
                    [[a, None if i % 9 == 0 else c] for i, (a, c) in enumerate(zip(accounts, created))])
    contacts = [[f"c{i:03d}", None if i % 17 == 0 else accounts[rng.integers(len(accounts))]] for i in range(240)]
    contacts += [[c, a] for c, a in contacts[:6]]                       # listed twice, same account
    contacts += [[c, accounts[(i * 7) % 40]] for i, (c, _) in enumerate(contacts[10:14])]  # twice, two accounts
    con.executemany("insert into staging.contacts values (?, ?)", contacts)
    subs = []
    for i, (s, e) in enumerate(zip(moment(70), moment(70))):
        ends = None if rng.random() < 0.4 else max(s, e)
        status = ["active", "Active", "cancelled", "Canceled", None][rng.integers(5)]
        subs.append([f"s{i}", accounts[rng.integers(len(accounts))], int(rng.integers(0, 30)),
                     int(rng.integers(0, 30)), float(rng.integers(0, 5000)) / 4, min(s, e), ends, status])
    con.executemany("insert into staging.subscriptions values (?, ?, ?, ?, ?, ?, ?, ?)", subs)
    opps = []
    for i, (c, e) in enumerate(zip(moment(120), moment(120))):
        closed = [None, max(c, e)][rng.integers(2)]
        opps.append([f"o{i}", accounts[rng.integers(len(accounts))], ["upsell", "new_business"][rng.integers(2)],
                     min(c, e), closed, bool(rng.random() < 0.5), bool(closed is not None or rng.random() < 0.3)])
    con.executemany("insert into staging.opportunities values (?, ?, ?, ?, ?, ?, ?)", opps)
    n = 6000
    stamps = moment(n)
    lag = rng.choice([0, 0, 0, 0, 1, 2, 5, 40, -1], size=n)          # days between the event and its landing
    kinds = rng.choice(["track", "page", "identify"], size=n, p=[0.5, 0.45, 0.05])
    names = rng.choice(["Feature Used", "Report Created", "Seat Invited", "Page Loaded", None], size=n)
    paths = rng.choice(["/pricing", "/Pricing/enterprise", "/upgrade", "/UPGRADE/now", "/blog/x", "/", None], size=n)
    who = [contacts[k][0] for k in rng.integers(0, len(contacts), size=n)]
    con.executemany("insert into staging.events values (?, ?, ?, ?, ?, ?, ?, ?)", [
        [f"m{i}", (stamps[i] + dt.timedelta(days=int(lag[i]))).date(), stamps[i], str(kinds[i]),
         None if kinds[i] != "track" else names[i], None if i % 23 == 0 else who[i], paths[i],
         [False, False, False, True, None][i % 5]]
        for i in range(n)])
    seniorities = ["owner", "cxo", "vp", "director", "manager", "senior", "entry", None]
    persona = pl.DataFrame({
        "contact_id": [c for c, _ in contacts[:240]],
        "persona_seniority": [seniorities[k] for k in rng.integers(0, len(seniorities), size=240)],
        "persona_function": ["marketing"] * 240,
    })
    return con, persona


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_all_snapshot_features_equal_the_segment_sql_run_per_snapshot(tmp_path, seed):
    """The readout computes every snapshot in one query (sql/readouts/snapshot_account_features.sql);
    each snapshot's rows must be exactly what the nightly segment's SQL gives for that night with
    crm_fallback=False, so a criterion is judged as the segment computes it."""
    con, persona = _edge_case_warehouse(tmp_path / "warehouse.duckdb", seed)
    together = snapshots_account_features(con, EQ_SNAPSHOTS, persona, UPSELL)
    assert together.schema == pl.Schema(FEATURE_SCHEMA)
    assert together["as_of"].unique().sort().to_list() == EQ_SNAPSHOTS
    assert together.equals(together.sort("as_of", "account_id"))
    for snapshot in EQ_SNAPSHOTS:
        alone = account_features(con, snapshot, persona, UPSELL, crm_fallback=False)
        assert together.filter(pl.col("as_of") == snapshot).equals(alone), snapshot
    # the data exercised the features (not an all-zero comparison)
    for column in ("active_seats_30d", "active_seats_30d_prior", "pricing_page_visits_30d",
                   "upgrade_page_visits_30d", "engaged_decision_makers_90d", "seats_purchased"):
        assert together[column].max() > 0, column
    assert together["is_customer"].any() and together["open_upsell_opportunity"].any()
    # a subset of the snapshots gives the same rows for them (the cache computes only missing ones)
    some = snapshots_account_features(con, EQ_SNAPSHOTS[1:3], persona, UPSELL)
    assert some.equals(together.filter(pl.col("as_of").is_in(EQ_SNAPSHOTS[1:3])))
    con.close()


def test_late_landed_events_are_excluded_from_every_snapshot(tmp_path):
    """event_date <= as_of: an event that happened before a snapshot's cutoff but landed after it does
    not count at that snapshot, and counts at the next one whose windows still hold it."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(FEATURE_DDL)
    con.execute("insert into staging.accounts values ('A1', timestamp '2025-01-01')")
    con.execute("insert into staging.contacts values ('c1', 'A1'), ('c2', 'A1')")
    con.execute("""insert into staging.events values
        ('m1', date '2026-03-01', timestamp '2026-02-27 10:00', 'track', 'Feature Used', 'c1', null, false),
        ('m2', date '2026-02-28', timestamp '2026-02-28 10:00', 'track', 'Feature Used', 'c2', null, false)""")
    persona = pl.DataFrame({"contact_id": ["c1", "c2"], "persona_seniority": ["vp", "entry"],
                            "persona_function": ["it", "it"]})
    rows = snapshots_account_features(con, [dt.date(2026, 2, 28), dt.date(2026, 3, 1)], persona, UPSELL)
    assert rows["active_seats_30d"].to_list() == [1, 2]
    assert rows["product_events_30d"].to_list() == [1, 2]
    con.close()
