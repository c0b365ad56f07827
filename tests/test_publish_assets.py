"""The audience and export assets end to end with `dagster.materialize` on a tmp DuckDB: sizes, min-size
skips with a WARN check, holdouts never exported, re-runs that change nothing, removes, failures."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import AssetCheckSeverity, AssetKey, materialize

from assets.audiences import assets as audience_assets
from assets.audiences.definitions import AudienceDefinition, load_audiences
from assets.audiences.publication import publish_audience, safe_reason
from assets.exports import assets as export_assets
from assets.exports.assets import build_publish_assets
from assets.exports.destinations import build_destinations
from assets.exports.publish_files import FilesystemPublisher
from test_audiences_fixtures import DAY, config_dir, contact, segment, write_tables
from workflows.resources import Folders, Warehouse

AUDIENCES = [
    {"name": "upsell-dm", "description": "Upsell decision makers", "kind": "upsell", "filter": "upsell_candidate",
     "destinations": ["google_ads", "meta", "linkedin_contacts", "linkedin_companies"], "holdout_share": 0.2},
    {"name": "leads", "description": "Prospects", "kind": "lead_source", "filter": "persona_function == 'marketing'",
     "destinations": ["google_ads", "meta"]},
]
MIN_SIZES = {"google_ads": 5, "meta": 5, "linkedin_contacts": 30, "linkedin_companies": 30}


def people(ids, opted_out=()) -> tuple[list[dict], list[dict]]:
    """Contacts and segments: even ids are customers and upsell candidates, odd ids prospects."""
    contacts = [contact(i, phone=f"+1 415 555 {i:04d}", email_opt_out=i in opted_out) for i in ids]
    segments = [segment(i, is_customer=i % 2 == 0, upsell_candidate=i % 2 == 0) for i in ids]
    return contacts, segments


class Night:
    """A warehouse, export folder and config in tmp_path; `run(day)` materialises members and exports."""

    def __init__(self, tmp: Path, audiences=AUDIENCES, min_sizes=MIN_SIZES):
        self.tmp, self.db, self.exports = tmp, tmp / "warehouse.duckdb", tmp / "exports"
        self.config = config_dir(tmp, audiences, min_sizes)
        self.assets = [audience_assets.members, *build_publish_assets(load_audiences(self.config))]

    def load(self, ids, opted_out=()) -> None:
        write_tables(self.db, *people(ids, opted_out))

    def run(self, day: dt.date = DAY, raise_on_error: bool = True):
        resources = {"warehouse": Warehouse(path=str(self.db)),
                     "folders": Folders(export_dir=str(self.exports), config_dir=str(self.config))}
        return materialize(self.assets, resources=resources, tags={"data_date": day.isoformat()},
                           raise_on_error=raise_on_error)

    def query(self, sql: str) -> pl.DataFrame:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.sql(sql).pl()

    def latest(self, audience: str, destination: str) -> Path:
        return (self.exports / audience / destination / "latest").resolve()


def materializations(result) -> dict[tuple[str, ...], dict]:
    return {tuple(e.materialization.asset_key.path): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def checks(result) -> dict[tuple[str, ...], object]:
    return {tuple(c.asset_key.path): c for c in result.get_asset_check_evaluations()}


def ids_in(path: Path) -> set[str]:
    return set(pl.read_csv(path, infer_schema=False)["EXTERN_ID"].drop_nulls())


def test_repository_config_gives_one_export_asset_per_audience():
    keys = {key for a in export_assets.publish_assets for key in a.keys}
    expected = {AssetKey(["exports", a.asset_name]) for a in load_audiences()}
    assert AssetKey(["exports", "upsell_decision_makers"]) in expected and AssetKey(["exports", "nurture_general"]) in expected
    assert keys == expected | {AssetKey(["audiences", "memberships"]), AssetKey(["audiences", "publish_log"])}
    export = next(a for a in export_assets.publish_assets if AssetKey(["exports", "nurture_seo_content"]) in a.keys)
    assert export.group_names_by_key[AssetKey(["exports", "nurture_seo_content"])] == "exports"
    assert AssetKey(["audiences", "members"]) in export.asset_deps[AssetKey(["exports", "nurture_seo_content"])]
    assert [spec.name for spec in export.check_specs] == ["all_destinations_published"]
    assert [spec.name for spec in audience_assets.members.check_specs] == ["consent_and_customer_rules"]


def test_night_rerun_and_next_night(tmp_path):
    night = Night(tmp_path)
    night.load(range(60))
    first = night.run()
    meta = materializations(first)

    # Sizes and exclusions are reported; the upsell audience is too small for LinkedIn.
    members = night.query('select audience, "group", count(*) n from audiences.members group by all')
    assert members["n"].sum() == 60  # 30 customers in upsell-dm, 30 prospects in leads
    upsell = meta[("exports", "upsell_dm")]
    assert upsell["audience_size"] == 30 and upsell["holdout_size"] + upsell["treatment_size"] == 30
    assert upsell["google_ads/status"] == upsell["meta/status"] == "published"
    assert upsell["linkedin_contacts/status"] == "skipped"
    assert "below the linkedin_contacts minimum of 30" in upsell["linkedin_contacts/reason"]
    assert Path(upsell["google_ads/path"]).is_dir() and upsell["path"] == str(night.exports / "upsell-dm")
    assert "| upsell-dm | 30 |" in meta[("audiences", "members")]["sizes"]

    # The size check warns for upsell-dm only; the consent check passed.
    evaluations = checks(first)
    assert not evaluations[("exports", "upsell_dm")].passed
    assert evaluations[("exports", "upsell_dm")].severity == AssetCheckSeverity.WARN
    assert evaluations[("exports", "leads")].passed and evaluations[("audiences", "members")].passed
    skipped = night.query("select destination, reason from audiences.publish_log where status = 'skipped'")
    assert sorted(skipped["destination"]) == ["linkedin_companies", "linkedin_contacts"]
    assert all("below" in r for r in skipped["reason"])

    # Holdout members are recorded but never exported; lead sources hold no customers.
    groups = night.query('select audience, contact_id, "group" from audiences.members')
    for audience in ("upsell-dm", "leads"):
        treatment = set(groups.filter((pl.col("audience") == audience) & (pl.col("group") == "treatment"))["contact_id"])
        assert ids_in(night.latest(audience, "meta") / "audience.csv") == treatment
    assert all(int(c[1:]) % 2 == 1 for c in ids_in(night.latest("leads", "meta") / "audience.csv"))
    memberships = night.query("select * from audiences.memberships")
    assert memberships.height == 60 and set(memberships["group"]) == {"treatment", "holdout"}

    # The exports ran, so every blocking check upstream passed: the night is tomorrow's baseline.
    assert night.query("select data_date, run_id from quality.passed_nights").rows() == [(DAY, first.run_id)]

    # No clear-text email or phone in any metadata value. (A phone is "+1 415 555 0001" here, or its
    # E.164 form; a bare "555" also turns up in SHA-256 hex and timestamps, so it is not the test.)
    shown = " ".join(str(value) for entries in meta.values() for value in entries.values())
    assert "@example" not in shown and not re.search(r"415\D?555\D?\d{4}", shown)

    # Re-run of the same night with the same data: nothing new anywhere.
    log_before = night.query("select * from audiences.publish_log order by all")
    folders_before = sorted(p.name for p in (night.exports / "upsell-dm" / "google_ads").iterdir())
    again = materializations(night.run())
    assert again[("exports", "upsell_dm")]["google_ads/status"] == "unchanged"
    assert again[("exports", "upsell_dm")]["publish_log_rows_added"] == 0
    assert night.query("select * from audiences.publish_log order by all").equals(log_before)
    assert sorted(p.name for p in (night.exports / "upsell-dm" / "google_ads").iterdir()) == folders_before
    assert night.query("select * from audiences.memberships order by all").equals(memberships.sort(pl.all()))

    # Next night: 0 and 2 opted out, 4 left the CRM, 60-63 are new.
    previous = night.latest("upsell-dm", "meta")
    night.load([i for i in range(64) if i != 4], opted_out={0, 2})
    second = materializations(night.run(DAY + dt.timedelta(days=1)))
    assert second[("exports", "upsell_dm")]["meta/status"] == "published"
    current = night.latest("upsell-dm", "meta")
    assert current != previous
    removed = ids_in(current / "removes.csv")
    assert removed == ids_in(previous / "audience.csv") - ids_in(current / "audience.csv")
    assert removed <= ids_in(previous / "audience.csv") and removed & {"c00000", "c00002", "c00004"} == removed
    assert ids_in(current / "adds.csv") == ids_in(current / "audience.csv") - ids_in(previous / "audience.csv")

    history = night.query("select * from audiences.memberships")
    stayed = history.filter(pl.col("contact_id") == "c00006").row(0, named=True)
    new = history.filter(pl.col("contact_id") == "c00062").row(0, named=True)
    gone = history.filter((pl.col("contact_id") == "c00004")).row(0, named=True)
    night_one, night_two = dt.datetime(2026, 11, 24), dt.datetime(2026, 11, 25)
    assert (stayed["first_published_at"], stayed["last_published_at"]) == (night_one, night_two)
    assert (new["first_published_at"], new["last_published_at"]) == (night_two, night_two)
    assert (gone["first_published_at"], gone["last_published_at"]) == (night_one, night_one)
    log = night.query("select data_date, count(*) n from audiences.publish_log group by all order by 1")
    assert log["n"].to_list() == [6, 6]  # one row per audience x destination per night


def test_a_failing_destination_is_logged_and_fails_the_asset_while_others_publish(tmp_path):
    night = Night(tmp_path, audiences=[AUDIENCES[1]])
    night.load(range(40))
    (night.exports / "leads").mkdir(parents=True)
    (night.exports / "leads" / "meta").write_text("not a folder")  # meta cannot publish
    result = night.run(raise_on_error=False)
    assert not result.success
    log = night.query("select destination, status, reason from audiences.publish_log order by destination")
    assert log["status"].to_list() == ["published", "failed"]
    assert log["reason"][1].startswith("FileExistsError")
    assert night.query("select count(*) n from audiences.memberships")["n"][0] > 0  # google_ads was delivered


def test_audience_min_size_skips_every_destination_and_records_no_membership(tmp_path):
    destinations = build_destinations({"destinations": {"meta": {"format": "meta_custom_audience_csv", "min_size": 1}}}, "t")
    audience = AudienceDefinition("small", "x", "custom", "true", ("meta",), holdout_share=0.0, min_size=50)
    db = write_tables(tmp_path / "w.duckdb", *people(range(10)))
    with duckdb.connect(str(db)) as con:
        con.execute("create schema audiences; create table audiences.members as "
                    "select 'small' audience, contact_id, account_id, 'treatment' \"group\", date '2026-11-24' as_of "
                    "from staging.contacts")
        publisher = FilesystemPublisher(tmp_path / "exports")
        results = [publish_audience(con, audience, destinations, publisher, "r1", DAY) for _ in range(2)]
        log = con.sql("select status, reason from audiences.publish_log").fetchall()
        memberships = con.sql("select count(*) from audiences.memberships").fetchone()[0]
    assert results[0].outcomes[0].status == "skipped" and results[0].logged_rows == 1 and results[1].logged_rows == 0
    assert log == [("skipped", "10 treatment members, below the audience min_size of 50")]
    assert memberships == 0 and not (tmp_path / "exports" / "small").exists()


def test_failure_reasons_are_masked():
    reason = safe_reason(OSError(5, "cannot write jane.doe@acme.com,\n+1 415 555 0101 in 2 rows"))
    assert reason == "OSError: [Errno 5] cannot write j***@acme.com, +* *** *** **01 in 2 rows"


def test_unknown_destination_is_a_clear_error(tmp_path):
    audience = AudienceDefinition("x", "x", "custom", "true", ("tiktok",), where="config/audiences.yaml: audiences[0]")
    with duckdb.connect() as con, pytest.raises(ValueError, match=r"audiences\[0\]: destinations \['tiktok'\]"):
        publish_audience(con, audience, {}, FilesystemPublisher(tmp_path), "r1", DAY)
