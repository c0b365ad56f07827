"""Upsell features (point-in-time SQL on a hand-built staging schema), scoring and config validation."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.segments.upsell import (
    FEATURE_SCHEMA,
    Criterion,
    UpsellConfig,
    account_features,
    load_upsell_config,
    score_accounts,
)
from assets.sql_files import run_sql
from workflows.settings import REPO_ROOT

AS_OF = dt.date(2026, 6, 30)  # a past night: events of 2026-07-01 exist
LATEST = dt.date(2026, 7, 1)  # the latest night: no event after it


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# The staging contract (docs/tables.md) for the tables the features read.
STAGING_DDL = """
create schema staging;
create table staging.accounts (account_id varchar, name varchar, domain varchar, industry varchar,
    employee_count varchar, annual_revenue double, country varchar, city varchar, state varchar, zip varchar,
    created_at timestamp);
create table staging.contacts (contact_id varchar, account_id varchar, email varchar, email_normalized varchar,
    email_valid boolean, email_domain varchar, is_personal_email boolean, first_name varchar, last_name varchar,
    job_title varchar, phone varchar, city varchar, state varchar, zip varchar, country varchar,
    lead_source varchar, lifecycle_stage varchar, email_opt_out boolean, is_suppressed boolean,
    created_at timestamp, updated_at timestamp, merged_contact_ids varchar[], duplicate_count integer);
create table staging.opportunities (opportunity_id varchar, account_id varchar, contact_id varchar, type varchar,
    stage varchar, amount double, created_at timestamp, closed_at timestamp, is_won boolean, is_closed boolean);
create table staging.subscriptions (subscription_id varchar, account_id varchar, plan varchar,
    seats_purchased integer, seats_active integer, mrr double, started_at timestamp, ends_at timestamp,
    status varchar, is_active_as_of boolean);
create table staging.events (message_id varchar, event_date date, ts timestamp, type varchar, event varchar,
    anonymous_id varchar, user_id varchar, contact_id varchar, page_url varchar, page_path varchar,
    page_title varchar, referrer varchar, referrer_host varchar, user_agent varchar, is_bot boolean,
    email_normalized varchar, utm_source varchar, utm_medium varchar, utm_campaign varchar, utm_term varchar,
    utm_content varchar, gclid varchar, dclid varchar, gbraid varchar, wbraid varchar, gclsrc varchar,
    msclkid varchar, srsltid varchar, content_topic varchar, content_id varchar, properties json);
create table staging.sessions (session_id varchar, anonymous_id varchar, contact_id varchar,
    started_at timestamp, ended_at timestamp, session_date date, pageviews integer, events integer,
    landing_url varchar, landing_path varchar, source varchar, medium varchar, campaign varchar, term varchar,
    content varchar, click_id varchar, referrer_host varchar, is_direct boolean);
"""


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Insert rows given as dicts; columns not given are null."""
    columns = con.table(table).columns
    frame = pl.DataFrame([{c: row.get(c) for c in columns} for row in rows], infer_schema_length=None)
    con.from_arrow(frame.to_arrow()).insert_into(table)


def event(n: int, contact: str | None, when: str, kind: str = "track", name: str | None = "Feature Used",
          path: str | None = None, bot: bool = False) -> dict:
    moment = ts(when)
    return {"message_id": f"m{n}", "event_date": moment.date(), "ts": moment, "type": kind,
            "event": name if kind == "track" else None, "contact_id": contact, "page_path": path, "is_bot": bot}


def build_staging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STAGING_DDL)
    insert(con, "staging.accounts", [
        {"account_id": "A1", "created_at": ts("2024-12-01")},   # engaged customer
        {"account_id": "A2", "created_at": ts("2024-01-01")},   # customer without product events
        {"account_id": "A3", "created_at": ts("2026-01-01")},   # subscription starts after as_of
        {"account_id": "A4", "created_at": ts("2024-12-01")},   # subscription ended at midnight of as_of
        {"account_id": "A5", "created_at": ts("2024-12-01")},   # cancelled, end date in the future
        {"account_id": "A6", "created_at": ts("2026-07-15")},   # created after as_of: not in the snapshot
        {"account_id": "A7", "created_at": None},               # no data at all
    ])
    contacts = [{"contact_id": f"c{i}", "account_id": "A1"} for i in range(1, 10)]
    contacts += [{"contact_id": f"d{i}", "account_id": "A1"} for i in range(1, 6)]
    contacts += [{"contact_id": "e1", "account_id": "A2"}]
    insert(con, "staging.contacts", contacts)
    insert(con, "staging.subscriptions", [
        {"subscription_id": "s1", "account_id": "A1", "seats_purchased": 10, "seats_active": 3, "mrr": 500.0,
         "started_at": ts("2025-01-01"), "ends_at": None, "status": "active"},
        {"subscription_id": "s2", "account_id": "A2", "seats_purchased": 10, "seats_active": 7, "mrr": 300.0,
         "started_at": ts("2025-03-01"), "ends_at": None, "status": "Active"},
        # cancelled with no end date: never counted, but it is the account's first start (tenure)
        {"subscription_id": "s2b", "account_id": "A2", "seats_purchased": 5, "seats_active": 5, "mrr": 100.0,
         "started_at": ts("2024-06-30"), "ends_at": None, "status": "Cancelled"},
        {"subscription_id": "s3", "account_id": "A3", "seats_purchased": 4, "seats_active": 1, "mrr": 50.0,
         "started_at": ts("2026-07-01 10:00"), "ends_at": None, "status": "active"},
        {"subscription_id": "s4", "account_id": "A4", "seats_purchased": 4, "seats_active": 1, "mrr": 50.0,
         "started_at": ts("2025-01-01"), "ends_at": ts("2026-06-30"), "status": "active"},
        {"subscription_id": "s5", "account_id": "A5", "seats_purchased": 6, "seats_active": 2, "mrr": 80.0,
         "started_at": ts("2025-01-01"), "ends_at": ts("2026-08-01"), "status": "cancelled"},
    ])
    insert(con, "staging.opportunities", [
        {"opportunity_id": "o1", "account_id": "A1", "type": "upsell", "created_at": ts("2026-06-01"),
         "closed_at": None, "is_closed": False},
        {"opportunity_id": "o2", "account_id": "A2", "type": "upsell", "created_at": ts("2026-05-01"),
         "closed_at": ts("2026-06-15"), "is_closed": True},
        {"opportunity_id": "o3", "account_id": "A3", "type": "upsell", "created_at": ts("2026-07-01 05:00"),
         "closed_at": None, "is_closed": False},
        {"opportunity_id": "o4", "account_id": "A5", "type": "upsell", "created_at": ts("2026-06-01"),
         "closed_at": ts("2026-07-10"), "is_closed": True},
        {"opportunity_id": "o5", "account_id": "A4", "type": "new_business", "created_at": ts("2026-06-01"),
         "closed_at": None, "is_closed": False},
    ])
    events = []
    n = 0

    def add(*args, **kwargs):
        nonlocal n
        n += 1
        events.append(event(n, *args, **kwargs))

    for i in range(1, 9):                       # 8 active seats in the last 30 days
        add(f"c{i}", "2026-06-20 12:00")
    add("c8", "2026-06-30 23:59:59")            # last second of as_of: counts
    add("c9", "2026-07-01 00:00:00")            # first second after as_of: must not count
    add("c1", "2026-06-20 13:00", name="Page Loaded")  # not a product event
    for i in range(1, 5):                       # 4 active seats 90 days earlier
        add(f"c{i}", "2026-03-15 09:00", name="Report Created")
    add("c5", "2026-04-02 00:00", name="Seat Invited")  # just after the prior window
    add("d1", "2026-06-25 10:00", kind="page", path="/pricing")
    add("c1", "2026-06-26 10:00", kind="page", path="/Pricing/enterprise")
    add("c2", "2026-06-25 10:00", kind="page", path="/pricing", bot=True)      # bot
    add("c1", "2026-05-20 10:00", kind="page", path="/pricing")                # older than 30 days
    add("c1", "2026-07-01 10:00", kind="page", path="/pricing")                # after as_of
    add(None, "2026-06-25 10:00", kind="page", path="/pricing")                # anonymous
    add("c2", "2026-06-28 10:00", kind="page", path="/upgrade")
    add("c2", "2026-06-28 10:01", kind="track", name="Clicked", path="/upgrade")  # not a page event
    add("d2", "2026-03-20 10:00", kind="page", path="/blog/x")                 # director, > 90 days ago
    add("d3", "2026-06-20 10:00", kind="page", path="/blog/x", bot=True)       # manager, bot only
    add("d4", "2026-06-20 10:00", kind="page", path="/blog/x")                 # intern
    add("d5", "2026-07-01 00:00", kind="page", path="/blog/x")                 # cxo, after as_of
    add("e1", "2026-06-10 10:00", kind="page", path="/pricing")
    insert(con, "staging.events", events)


PERSONA = pl.DataFrame({
    "contact_id": [f"c{i}" for i in range(1, 10)] + ["d1", "d2", "d3", "d4", "d5", "e1"],
    "persona_seniority": ["entry"] * 9 + ["vp", "director", "manager", "intern", "cxo", "entry"],
    "persona_function": ["marketing"] * 15,
})


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path_factory.mktemp("upsell") / "warehouse.duckdb"))
    build_staging(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def config() -> UpsellConfig:
    return load_upsell_config(REPO_ROOT / "config")


def by_account(features: pl.DataFrame) -> dict[str, dict]:
    return {row["account_id"]: row for row in features.iter_rows(named=True)}


@pytest.fixture(scope="module")
def past(warehouse, config) -> dict[str, dict]:
    return by_account(account_features(warehouse, AS_OF, PERSONA, config))


def test_features_schema_matches_the_sql(warehouse, config):
    features = account_features(warehouse, AS_OF, PERSONA, config)
    assert dict(features.schema) == FEATURE_SCHEMA
    warehouse.register("contact_persona", PERSONA.to_arrow())
    raw = run_sql(warehouse, "segments/account_features",
                  {"snapshots": [AS_OF], "crm_fallback": True, **config.sql_params()}).to_arrow_table()
    warehouse.unregister("contact_persona")
    assert raw.column_names == list(FEATURE_SCHEMA)


def test_one_row_per_account_existing_at_as_of(past):
    # A6 was created after as_of; A7 has no created date and no data but is an account.
    assert sorted(past) == ["A1", "A2", "A3", "A4", "A5", "A7"]


def test_engaged_customer_features(past):
    a1 = past["A1"]
    assert a1["is_customer"] is True
    assert a1["seats_purchased"] == 10
    assert a1["active_seats_30d"] == 8          # c9's event at 00:00 after as_of is excluded
    assert a1["active_seats_30d_prior"] == 4
    assert a1["seat_utilization"] == pytest.approx(0.8)
    assert a1["seat_utilization_source"] == "events"
    assert a1["active_seat_growth_90d"] == pytest.approx(1.0)
    assert a1["product_events_30d"] == 9        # 8 + the last second of as_of; not 'Page Loaded'
    assert a1["pricing_page_visits_30d"] == 2   # not bot, older, later or anonymous
    assert a1["upgrade_page_visits_30d"] == 1   # the track event on /upgrade is not a page visit
    assert a1["engaged_decision_makers_90d"] == 1
    assert a1["tenure_days"] == 545
    assert a1["mrr"] == 500.0
    assert a1["open_upsell_opportunity"] is True
    assert a1["latest_night"] is False
    assert a1["as_of"] == AS_OF


def test_cancelled_subscription_without_end_is_never_active(past):
    a2 = past["A2"]
    assert a2["is_customer"] is True
    assert a2["seats_purchased"] == 10 and a2["mrr"] == 300.0
    assert a2["tenure_days"] == 730             # from the earliest start, cancelled or not
    assert a2["pricing_page_visits_30d"] == 1
    assert a2["open_upsell_opportunity"] is False  # closed before as_of


def test_past_night_does_not_use_crm_snapshot(past):
    assert past["A2"]["seat_utilization"] == 0.0
    assert past["A2"]["seat_utilization_source"] == "events"


def test_latest_night_falls_back_to_crm_seats(warehouse, config):
    latest = by_account(account_features(warehouse, LATEST, PERSONA, config))
    assert latest["A2"]["latest_night"] is True
    assert latest["A2"]["seat_utilization"] == pytest.approx(0.7)
    assert latest["A2"]["seat_utilization_source"] == "crm"
    # A1 has product events: events win over the CRM's seats_active (3 / 10).
    assert latest["A1"]["seat_utilization_source"] == "events"
    no_crm = by_account(account_features(warehouse, LATEST, PERSONA, config, crm_fallback=False))
    assert no_crm["A2"]["seat_utilization"] == 0.0


def test_crm_fallback_needs_no_product_event_ever_not_just_in_the_windows(tmp_path, config):
    """Product usage from before the 120 days the windows read still counts: such an account is measured
    by its events (no active seat), not by the CRM's seats_active; only an account with no product
    event at all falls back to the CRM."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    build_staging(con)
    insert(con, "staging.accounts", [{"account_id": a, "created_at": ts("2024-01-01")} for a in ("A8", "A9", "A10")])
    insert(con, "staging.contacts", [{"contact_id": "f1", "account_id": "A8"}, {"contact_id": "g1", "account_id": "A9"},
                                     {"contact_id": "h1", "account_id": "A10"}])
    insert(con, "staging.subscriptions", [
        {"subscription_id": f"s{a}", "account_id": a, "seats_purchased": 10, "seats_active": 4, "mrr": 10.0,
         "started_at": ts("2025-01-01"), "status": "active"} for a in ("A8", "A9", "A10")])
    insert(con, "staging.events", [
        event(901, "f1", "2025-12-01 10:00"),                                   # 212 days before LATEST
        event(902, "f1", "2025-12-02 10:00", name="Feature Used", bot=True),    # a bot's: not usage
        event(903, "g1", "2025-12-01 10:00", name="Page Loaded"),               # not a product event
        event(904, "h1", "2026-05-01 10:00", name="Report Created"),            # in the windows, not 30 days
    ])
    latest = by_account(account_features(con, LATEST, PERSONA, config))
    con.close()
    assert (latest["A8"]["seat_utilization_source"], latest["A8"]["seat_utilization"]) == ("events", 0.0)
    assert (latest["A9"]["seat_utilization_source"], latest["A9"]["seat_utilization"]) == ("crm", 0.4)
    assert (latest["A10"]["seat_utilization_source"], latest["A10"]["seat_utilization"]) == ("events", 0.0)


def test_subscription_starting_after_as_of_is_not_a_customer(past, warehouse, config):
    a3 = past["A3"]
    assert a3["is_customer"] is False
    assert a3["seats_purchased"] == 0 and a3["mrr"] == 0.0
    assert a3["seat_utilization"] is None and a3["tenure_days"] is None
    assert a3["open_upsell_opportunity"] is False   # created after as_of
    latest = by_account(account_features(warehouse, LATEST, PERSONA, config))
    assert latest["A3"]["is_customer"] is True and latest["A3"]["tenure_days"] == 0


def test_subscription_end_boundary(past, warehouse, config):
    assert past["A4"]["is_customer"] is False       # ended at 00:00 of as_of
    assert past["A4"]["seat_utilization"] is None
    day_before = by_account(account_features(warehouse, dt.date(2026, 6, 29), PERSONA, config))
    assert day_before["A4"]["is_customer"] is True


def test_cancelled_status_is_trusted_only_on_the_latest_night(past, warehouse, config):
    # A past night: the subscription ran until its end date, so the account was a customer then.
    assert past["A5"]["is_customer"] is True
    assert past["A5"]["open_upsell_opportunity"] is True   # closed only after as_of
    latest = by_account(account_features(warehouse, LATEST, PERSONA, config))
    assert latest["A5"]["is_customer"] is False


def test_account_without_data_has_zero_features(past):
    a7 = past["A7"]
    assert a7["is_customer"] is False and a7["product_events_30d"] == 0
    assert a7["active_seat_growth_90d"] == 0.0 and a7["engaged_decision_makers_90d"] == 0


def test_decision_maker_seniorities_come_from_config(warehouse, config):
    from dataclasses import replace

    wider = replace(config, decision_maker_seniorities=("vp", "intern"))
    rows = by_account(account_features(warehouse, AS_OF, PERSONA, wider))
    assert rows["A1"]["engaged_decision_makers_90d"] == 2
    paths = replace(config, pricing_page_paths=("/blog",))
    rows = by_account(account_features(warehouse, AS_OF, PERSONA, paths))
    assert rows["A1"]["pricing_page_visits_30d"] == 1  # d4's /blog/x (d3 is a bot)


def test_contact_persona_must_have_its_columns(warehouse, config):
    with pytest.raises(ValueError, match="persona_seniority"):
        account_features(warehouse, AS_OF, PERSONA.drop("persona_seniority"), config)


# -- scoring ----------------------------------------------------------------------------------------

def features_frame(rows: list[dict]) -> pl.DataFrame:
    base = {c: None for c in FEATURE_SCHEMA}
    return pl.DataFrame([{**base, **row} for row in rows], schema=FEATURE_SCHEMA)


def test_score_flags_list_score_and_candidate(config):
    frame = features_frame([
        {"account_id": "hot", "is_customer": True, "seat_utilization": 0.9, "pricing_page_visits_30d": 3,
         "tenure_days": 400},
        {"account_id": "one", "is_customer": True, "seat_utilization": 0.9, "pricing_page_visits_30d": 0},
        {"account_id": "prospect", "is_customer": False, "seat_utilization": 0.95, "pricing_page_visits_30d": 5},
        {"account_id": "nulls", "is_customer": True},
    ])
    scored = {r["account_id"]: r for r in score_accounts(frame, config).iter_rows(named=True)}
    hot = scored["hot"]
    assert hot["criterion_high_seat_utilization"] and hot["criterion_pricing_page_interest"]
    assert hot["criterion_long_tenure"] and not hot["criterion_upgrade_page_visit"]
    assert hot["upsell_criteria_met"] == ["high_seat_utilization", "pricing_page_interest", "long_tenure"]
    assert hot["upsell_score"] == 3.0 and hot["upsell_candidate"] is True
    assert scored["one"]["upsell_score"] == 1.0 and scored["one"]["upsell_candidate"] is False
    # Non-customers: flags computed, no score, never a candidate.
    prospect = scored["prospect"]
    assert prospect["criterion_high_seat_utilization"] is True
    assert prospect["upsell_score"] is None and prospect["upsell_candidate"] is False
    # Null features never meet a criterion (flags are false, not null).
    nulls = scored["nulls"]
    assert all(nulls[c] is False for c in config.criterion_columns)
    assert nulls["upsell_criteria_met"] == [] and nulls["upsell_score"] == 0.0


def test_weights_and_candidate_rule_over_flags(config, tmp_path):
    from dataclasses import replace

    custom = replace(
        config,
        criteria=(Criterion("busy", "", "seat_utilization >= 0.8", 2.5),
                  Criterion("shopping", "", {"any": ["pricing_page_visits_30d >= 2", "upgrade_page_visits_30d >= 1"]}, 0.5)),
        candidate_rule="criterion_busy and not criterion_shopping",
    )
    frame = features_frame([
        {"account_id": "a", "is_customer": True, "seat_utilization": 0.8, "upgrade_page_visits_30d": 1},
        {"account_id": "b", "is_customer": True, "seat_utilization": 0.85, "upgrade_page_visits_30d": 0},
    ])
    scored = score_accounts(frame, custom).sort("account_id")
    assert scored["upsell_score"].to_list() == [3.0, 2.5]
    assert scored["upsell_candidate"].to_list() == [False, True]
    assert scored["upsell_criteria_met"].to_list() == [["busy", "shopping"], ["busy"]]


def test_end_to_end_features_then_score(warehouse, config):
    scored = score_accounts(account_features(warehouse, AS_OF, PERSONA, config), config)
    rows = {r["account_id"]: r for r in scored.iter_rows(named=True)}
    assert rows["A1"]["upsell_criteria_met"] == [
        "high_seat_utilization", "pricing_page_interest", "upgrade_page_visit", "growing_usage",
        "engaged_decision_maker", "long_tenure"]
    assert rows["A1"]["upsell_candidate"] is True
    assert not any(rows[a]["upsell_candidate"] for a in ("A3", "A4", "A7"))


def test_score_needs_is_customer(config):
    with pytest.raises(ValueError, match="is_customer"):
        score_accounts(pl.DataFrame({"seat_utilization": [0.9]}), config)


# -- config validation --------------------------------------------------------------------------------

def default_config() -> dict:
    return yaml.safe_load((REPO_ROOT / "config" / "upsell.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    (tmp_path / "upsell.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def test_default_config_loads(config):
    assert [c.name for c in config.criteria] == [
        "high_seat_utilization", "pricing_page_interest", "upgrade_page_visit", "growing_usage",
        "engaged_decision_maker", "long_tenure"]
    assert config.candidate_rule == "upsell_score >= 2"
    assert config.pricing_page_paths == ("/pricing",)


def test_structured_rule_is_accepted(tmp_path):
    data = default_config()
    data["criteria"][0]["rule"] = {"all": ["seat_utilization >= 0.8", {"not": "open_upsell_opportunity"}]}
    config = load_upsell_config(write(tmp_path, data))
    assert config.criteria[0].rule == data["criteria"][0]["rule"]


def change(data: dict, path: list, value) -> dict:
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()


@pytest.mark.parametrize("path, value, where, message", [
    (["criteria", 0, "rule"], "seat_utilisation >= 0.8", "criteria[0].rule", "unknown column 'seat_utilisation'"),
    (["criteria", 0, "rule"], "seat_utilization.real > 1", "criteria[0].rule", "attribute access"),
    (["criteria", 0, "rule"], "seat_utilization", "criteria[0].rule", "must be true or false"),
    (["criteria", 0, "rule"], 5, "criteria[0].rule", "expected str or dict"),
    (["criteria", 0, "rule"], {"every": ["x"]}, "criteria[0].rule", "exactly one key"),
    (["criteria", 1, "name"], "high_seat_utilization", "criteria[1].name", "used twice"),
    (["criteria", 0, "name"], "High Seats", "criteria[0].name", "snake_case"),
    (["criteria", 0, "weight"], "1", "criteria[0].weight", "expected int or float"),
    (["criteria", 0, "weight"], True, "criteria[0].weight", "expected a number"),
    (["criteria", 0, "weight"], float("nan"), "criteria[0].weight", "finite"),
    (["criteria", 0, "weight"], DELETE, "criteria[0].weight", "required key is missing"),
    (["criteria", 0, "colour"], "red", "criteria[0]", "unknown key"),
    (["criteria", 0], "seat_utilization >= 0.8", "criteria[0]", "mapping"),
    (["criteria"], [], "criteria", "at least one criterion"),
    (["candidate_rule"], DELETE, "candidate_rule", "required key is missing"),
    (["candidate_rule"], "upsell_score >= 'two'", "candidate_rule", "cannot compare"),
    (["candidate_rule"], "criterion_nope", "candidate_rule", "unknown column 'criterion_nope'"),
    (["decision_maker_seniorities"], ["vp", "boss"], "decision_maker_seniorities[1]", "'boss' is not one of"),
    (["decision_maker_seniorities"], [], "decision_maker_seniorities", "at least one"),
    (["pricing_page_paths"], ["pricing"], "pricing_page_paths[0]", "starts with '/'"),
    (["upgrade_page_paths"], "/upgrade", "upgrade_page_paths", "expected list"),
    (["product_events"], [""], "product_events[0]", "non-empty text"),
    (["cancelled_statuses"], DELETE, "cancelled_statuses", "required key is missing"),
    (["segments"], 1, "segments", "unknown key"),
])
def test_config_errors_name_file_key_and_problem(tmp_path, path, value, where, message):
    folder = write(tmp_path, change(default_config(), path, value))
    with pytest.raises(ConfigError) as caught:
        load_upsell_config(folder)
    error = caught.value
    assert error.file == str(folder / "upsell.yaml")
    assert error.where == where
    assert message in error.problem


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_upsell_config(tmp_path)
