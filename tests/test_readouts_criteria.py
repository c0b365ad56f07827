"""Criteria performance on synthetic account-snapshots: snapshot dates, counts, verdicts, config errors;
the all-snapshots feature SQL against an independent Polars statement of its rules, and against itself
run once per snapshot, on edge-case warehouses."""
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
)
from assets.readouts.readout_config import load_readout_config
from assets.segments.upsell import FEATURE_SCHEMA, account_features, load_upsell_config, snapshots_account_features
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


# --- the all-snapshots feature SQL: rules (an independent Polars statement) and per-snapshot runs ---

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


def expected_features(con: duckdb.DuckDBPyConnection, as_of: dt.date, persona: pl.DataFrame,
                      crm_fallback: bool) -> pl.DataFrame:
    """The documented feature rules of sql/segments/account_features.sql, stated directly in Polars for
    one night (a per-event filter, no day reduction and no snapshot join): the oracle for the SQL."""
    table = lambda name: con.table(f"staging.{name}").pl()  # noqa: E731
    events, contacts, subs, opps = table("events"), table("contacts"), table("subscriptions"), table("opportunities")
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    day = dt.timedelta(days=1)
    max_event_date = events["event_date"].max()
    latest = crm_fallback and (max_event_date is None or as_of >= max_event_date)
    accounts = table("accounts").filter(
        pl.col("created_at").is_null() | (pl.col("created_at") < cutoff)
        | pl.col("account_id").is_in(subs.filter(pl.col("started_at") < cutoff)["account_id"].implode())
    ).select("account_id")
    cancelled = pl.col("status").fill_null("").str.to_lowercase().is_in(list(UPSELL.cancelled_statuses))
    active = ((pl.col("ends_at").is_null() | (pl.col("ends_at") >= cutoff))
              & ~(cancelled & (pl.col("ends_at").is_null() | pl.lit(latest)))).fill_null(False)
    sub = subs.filter(pl.col("started_at") < cutoff).with_columns(active=active).group_by("account_id").agg(
        is_customer=pl.col("active").any(),
        seats_purchased=pl.col("seats_purchased").filter("active").sum().cast(pl.Int64),
        crm_seats_active=pl.when(pl.col("seats_active").filter("active").count() > 0)
        .then(pl.col("seats_active").filter("active").sum()),
        mrr=pl.col("mrr").filter("active").sum(),
        first_started_at=pl.col("started_at").min(),
    )
    bot = pl.col("is_bot").fill_null(False)
    product = ((pl.col("type") == "track") & pl.col("event").is_in(list(UPSELL.product_events)) & ~bot).fill_null(False)
    def on_paths(prefixes):
        path = pl.col("page_path").str.to_lowercase()
        hit = pl.any_horizontal([path.str.starts_with(p.lower()) for p in prefixes])
        return ((pl.col("type") == "page") & ~bot & hit).fill_null(False)
    known = events.filter((pl.col("ts") < cutoff) & (pl.col("event_date") <= as_of)).join(
        contacts.filter(pl.col("account_id").is_not_null()), on="contact_id")
    deciders = persona.filter(pl.col("persona_seniority").is_in(list(UPSELL.decision_maker_seniorities)))
    in_30d, in_90d = pl.col("ts") >= cutoff - 30 * day, pl.col("ts") >= cutoff - 90 * day
    prior = (pl.col("ts") >= cutoff - 120 * day) & (pl.col("ts") < cutoff - 90 * day)
    ev = known.filter(pl.col("ts") >= cutoff - 120 * day).with_columns(
        product=product, pricing=on_paths(UPSELL.pricing_page_paths), upgrade=on_paths(UPSELL.upgrade_page_paths),
        decider=pl.col("contact_id").is_in(deciders["contact_id"].implode()) & ~bot,
    ).group_by("account_id").agg(
        active_seats_30d=pl.col("contact_id").filter(pl.col("product") & in_30d).n_unique(),
        active_seats_30d_prior=pl.col("contact_id").filter(pl.col("product") & prior).n_unique(),
        product_events_30d=(pl.col("product") & in_30d).sum(),
        pricing_page_visits_30d=(pl.col("pricing") & in_30d).sum(),
        upgrade_page_visits_30d=(pl.col("upgrade") & in_30d).sum(),
        engaged_decision_makers_90d=pl.col("contact_id").filter(pl.col("decider") & in_90d).n_unique(),
    )
    used = known.filter(product).select("account_id").unique().with_columns(used=pl.lit(True))
    upsell_open = opps.filter(
        (pl.col("type") == "upsell") & (pl.col("created_at") < cutoff)
        & ((pl.col("closed_at") >= cutoff) | (pl.col("closed_at").is_null() & ~pl.col("is_closed").fill_null(False)))
    ).select("account_id").unique().with_columns(open_upsell_opportunity=pl.lit(True))
    rows = accounts.join(sub, on="account_id", how="left").join(ev, on="account_id", how="left") \
        .join(used, on="account_id", how="left").join(upsell_open, on="account_id", how="left")
    zero = lambda c: pl.col(c).fill_null(0).cast(pl.Int64)  # noqa: E731 (counts are unsigned)
    seats = zero("seats_purchased")
    crm = pl.lit(latest) & pl.col("used").is_null() & pl.col("crm_seats_active").is_not_null()
    return rows.select(
        "account_id",
        is_customer=pl.col("is_customer").fill_null(False),
        seats_purchased=seats,
        active_seats_30d=zero("active_seats_30d"),
        active_seats_30d_prior=zero("active_seats_30d_prior"),
        seat_utilization=pl.when(seats <= 0).then(None).when(crm).then(pl.col("crm_seats_active") / seats)
        .otherwise(zero("active_seats_30d") / seats),
        seat_utilization_source=pl.when(seats <= 0).then(None).when(crm).then(pl.lit("crm")).otherwise(pl.lit("events")),
        active_seat_growth_90d=(zero("active_seats_30d") - zero("active_seats_30d_prior"))
        / pl.max_horizontal(zero("active_seats_30d_prior"), 1),
        product_events_30d=zero("product_events_30d"),
        pricing_page_visits_30d=zero("pricing_page_visits_30d"),
        upgrade_page_visits_30d=zero("upgrade_page_visits_30d"),
        engaged_decision_makers_90d=zero("engaged_decision_makers_90d"),
        tenure_days=(pl.lit(as_of) - pl.col("first_started_at").dt.date()).dt.total_days(),
        mrr=pl.col("mrr").fill_null(0.0),
        open_upsell_opportunity=pl.col("open_upsell_opportunity").fill_null(False),
        latest_night=pl.lit(latest),
        as_of=pl.lit(as_of),
    ).cast(FEATURE_SCHEMA).sort("account_id")


@pytest.mark.parametrize("crm_fallback", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_all_snapshot_features_follow_the_rules_and_equal_single_snapshot_runs(tmp_path, seed, crm_fallback):
    """sql/segments/account_features.sql computes every snapshot in one set-based query (the readout,
    crm_fallback=False) or one night (the segment, crm_fallback=True). Each snapshot's rows must be what
    the rules give (`expected_features`, per event) and what a one-snapshot run gives."""
    con, persona = _edge_case_warehouse(tmp_path / "warehouse.duckdb", seed)
    latest = con.execute("select max(event_date) from staging.events").fetchone()[0]
    # the CRM fallback's cases on the latest night: no contact at all (crm), and product usage only
    # long before the 30-day window (events, 0 active seats: usage ever counts, not usage lately); and a
    # cancelled subscription that ends after every snapshot (today's status only counts on the latest night)
    con.execute("insert into staging.accounts values ('Z1', null), ('Z2', null), ('Z3', null)")
    con.execute("insert into staging.contacts values ('z2', 'Z2')")
    con.execute("""insert into staging.subscriptions values
        ('zs1', 'Z1', 10, 4, 100, timestamp '2025-01-01', null, 'active'),
        ('zs2', 'Z2', 10, 6, 100, timestamp '2025-01-01', null, 'active'),
        ('zs3', 'Z3', 10, 6, 100, timestamp '2025-01-01', timestamp '2099-01-01', 'Cancelled')""")
    con.execute("insert into staging.events values ('zm', date '2025-10-02', timestamp '2025-10-02 09:00', "
                "'track', 'Feature Used', 'z2', null, false)")
    snapshots = [*EQ_SNAPSHOTS, latest]
    together = snapshots_account_features(con, snapshots, persona, UPSELL, crm_fallback=crm_fallback)
    assert together.schema == pl.Schema(FEATURE_SCHEMA)
    assert together["as_of"].unique().sort().to_list() == snapshots
    assert together.equals(together.sort("as_of", "account_id"))
    for snapshot in snapshots:
        rows = together.filter(pl.col("as_of") == snapshot)
        assert rows.equals(expected_features(con, snapshot, persona, crm_fallback)), snapshot
        assert rows.equals(account_features(con, snapshot, persona, UPSELL, crm_fallback=crm_fallback)), snapshot
    # the data exercised the features (not an all-zero comparison)
    for column in ("active_seats_30d", "active_seats_30d_prior", "pricing_page_visits_30d",
                   "upgrade_page_visits_30d", "engaged_decision_makers_90d", "seats_purchased"):
        assert together[column].max() > 0, column
    assert together["is_customer"].any() and together["open_upsell_opportunity"].any()
    on_latest = {r["account_id"]: r for r in together.filter(pl.col("as_of") == latest).iter_rows(named=True)}
    assert on_latest["Z2"]["seat_utilization"] == 0.0 and on_latest["Z2"]["seat_utilization_source"] == "events"
    assert on_latest["Z3"]["is_customer"] is not crm_fallback
    assert together.filter(pl.col("account_id") == "Z3", pl.col("as_of") < latest)["is_customer"].all()
    if crm_fallback:
        assert together["latest_night"].to_list() == [s == latest for s in together["as_of"]]
        assert on_latest["Z1"]["seat_utilization"] == 0.4 and on_latest["Z1"]["seat_utilization_source"] == "crm"
    else:
        assert not together["latest_night"].any()
        assert set(together["seat_utilization_source"].drop_nulls()) == {"events"}
    # a subset of the snapshots gives the same rows for them (the cache computes only missing ones)
    some = snapshots_account_features(con, EQ_SNAPSHOTS[1:3], persona, UPSELL, crm_fallback=crm_fallback)
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
    rows = snapshots_account_features(con, [dt.date(2026, 2, 28), dt.date(2026, 3, 1)], persona, UPSELL,
                                      crm_fallback=False)
    assert rows["active_seats_30d"].to_list() == [1, 2]
    assert rows["product_events_30d"].to_list() == [1, 2]
    con.close()
