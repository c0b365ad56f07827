"""The Dagster asset checks, run for real: tiny assets with the contract's keys write DuckDB tables in
tmp_path, `dagster.materialize` runs them with the quality checks, and a downstream asset shows whether
a failed blocking check stopped the run."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckSeverity, AssetExecutionContext, AssetKey, MaterializeResult, asset, materialize,
)

from data_quality.checks import (
    build_drift_check, build_expectation_check, build_quality_checks, build_web_event_checks,
)
from assets.data_date import utc_today
from assets.raw.landing import create_raw_tables
from data_quality.passed_nights import mark_night_passed
from workflows.resources import Folders, Warehouse

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
CONTACT_SEGMENTS = AssetKey(["segments", "contact_segments"])


TEST_QUALITY_YAML = """
shares: {max_other_persona_percent: 30, max_unassigned_channel_percent: 40, min_valid_raw_email_percent: 80,
         max_orphan_account_percent: 1, max_orphan_deal_percent: 5}
drift: {max_change_percent: 25, min_segment_size: 50}
event_volume: {tolerance_percent: 50, baseline_days: 14, min_baseline_days: 7}
freshness: {max_age_days: 2, crm_max_age_days: 3}
suppressions: {min_share_of_previous_percent: 50}
future_timestamps: {tolerance_hours: 24}
"""


def resources(tmp_path: Path) -> dict:
    """Real resources in tmp_path; the config folder is the repo's with the tests' own thresholds."""
    config_dir = tmp_path / "config"
    if not config_dir.exists():
        shutil.copytree(REPO_CONFIG, config_dir)
        (config_dir / "quality.yaml").write_text(TEST_QUALITY_YAML)
    return {
        "warehouse": Warehouse(path=str(tmp_path / "warehouse.duckdb")),
        "folders": Folders(landing_dir=str(tmp_path / "landing"), export_dir=str(tmp_path / "exports"),
                           report_dir=str(tmp_path / "reports"), config_dir=str(config_dir)),
    }


def contact_segments_asset(persona_for: dict[int, str]):
    """A stand-in for the real segment asset: 200 contacts, persona `persona_for[i % 4]`."""
    personas = [persona_for[i] for i in range(4)]

    @asset(key=CONTACT_SEGMENTS)
    def contact_segments(warehouse: Warehouse) -> MaterializeResult:
        with warehouse.connect() as con:
            con.execute("create schema if not exists segments")
            con.execute("""create or replace table segments.contact_segments as select
                'c' || i as contact_id, 'a' || (i % 7) as account_id, $personas[1 + i % 4] as persona_function,
                'manager' as persona_seniority, 'x' as persona, 'Direct' as first_touch_channel,
                '(direct)' as first_touch_source, '(none)' as first_touch_medium, null as first_touch_campaign,
                timestamp '2026-02-01' as first_touch_at, null as last_touch_channel,
                'Email' as lead_source_channel, ['seo'] as content_interests, 'general' as nurture_track,
                '11-50' as company_size_band, 'startup' as company_tier, i % 10 = 0 as is_customer,
                i % 20 = 0 as upsell_candidate
                from range(200) t(i)""", {"personas": personas})
        return MaterializeResult()

    return contact_segments


@asset(key=AssetKey(["audiences", "stand_in"]), deps=[CONTACT_SEGMENTS])
def downstream_publish(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """Stands in for the audience/export assets: writes a marker named after the run and, as the real
    export assets do, marks the night as passed (it only runs when the blocking checks passed)."""
    folders.exports.mkdir(parents=True, exist_ok=True)
    (folders.exports / "published.txt").write_text(context.run.run_id)
    with warehouse.connect() as con:
        mark_night_passed(con, dt.date.fromisoformat(context.run.tags["data_date"]), context.run.run_id)
    return MaterializeResult()


def evaluation(result, name: str):
    found = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    assert len(found) == 1, [e.check_name for e in result.get_asset_check_evaluations()]
    return found[0]


GOOD = {0: "marketing", 1: "sales", 2: "data", 3: "other"}


def test_clean_segments_pass_and_downstream_publishes(tmp_path):
    checks = [build_expectation_check("segments.contact_segments"),
              build_drift_check("segments.contact_segments", ("persona_function",))]
    result = materialize([contact_segments_asset(GOOD), downstream_publish, *checks],
                         resources=resources(tmp_path), tags={"data_date": "2026-03-01"})
    assert result.success
    check = evaluation(result, "contact_segments_expectations")
    assert check.passed and check.severity == AssetCheckSeverity.ERROR
    meta = check.metadata
    assert meta["dagster/row_count"].value == 200 and meta["rows_checked"].value == 200
    report = Path(meta["report"].value)
    assert report == tmp_path / "reports" / "validation" / "segments.contact_segments" / "2026-03-01.html"
    assert report.is_file()
    drift = evaluation(result, "contact_segments_size_drift")
    assert drift.passed and "baseline" in drift.description
    assert (tmp_path / "exports" / "published.txt").read_text() == result.run_id


def test_a_failed_blocking_check_stops_downstream_and_explains_why(tmp_path):
    good = materialize([contact_segments_asset(GOOD), downstream_publish,
                        build_expectation_check("segments.contact_segments")],
                       resources=resources(tmp_path), tags={"data_date": "2026-03-01"})
    assert good.success
    published = (tmp_path / "exports" / "published.txt").read_text()

    corrupt = {0: "other", 1: "other", 2: "astronaut", 3: "data"}   # 50% `other`, one unknown function
    result = materialize([contact_segments_asset(corrupt), downstream_publish,
                          build_expectation_check("segments.contact_segments")],
                         resources=resources(tmp_path), tags={"data_date": "2026-03-02"}, raise_on_error=False)
    check = evaluation(result, "contact_segments_expectations")
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    table = check.metadata["failed_expectations"].value
    assert "| share_of_value_at_most | persona_function | 100 | 50.00% |" in table
    assert "persona_function=astronaut, contact_id=c2" in table
    assert "astronaut" in Path(check.metadata["report"].value).read_text()
    # The downstream asset did not run: the previous publish is untouched.
    assert (tmp_path / "exports" / "published.txt").read_text() == published
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey(["audiences", "stand_in"]) not in materialized


def test_segment_size_drift_warns_without_blocking(tmp_path):
    checks = [build_drift_check("segments.contact_segments", ("persona_function",))]
    first = materialize([contact_segments_asset(GOOD), downstream_publish, *checks],
                        resources=resources(tmp_path), tags={"data_date": "2026-03-01"})
    shifted = {0: "marketing", 1: "marketing", 2: "data", 3: "other"}   # sales 50 -> 0, marketing 50 -> 100
    second = materialize([contact_segments_asset(shifted), downstream_publish, *checks],
                         resources=resources(tmp_path), tags={"data_date": "2026-03-02"})
    assert second.success
    drift = evaluation(second, "contact_segments_size_drift")
    assert not drift.passed and drift.severity == AssetCheckSeverity.WARN
    assert drift.metadata["previous_run_id"].value == first.run_id
    assert drift.metadata["segments_drifted"].value == 2
    assert "| persona_function | marketing | 50 | 100 | 100.0 |" in drift.metadata["drifted_segments"].value
    assert (tmp_path / "exports" / "published.txt").read_text() == second.run_id   # not blocking
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        runs = con.execute("select count(distinct run_id) from quality.segment_size_history").fetchone()[0]
    assert runs == 2


def test_drift_skips_a_blocked_night_as_baseline(tmp_path):
    """Night 2 fails its blocking suite (nothing downstream runs, the night is not marked passed):
    night 3 is compared with night 1, so the corrupt night does not hide or fake tomorrow's drift."""
    checks = [build_expectation_check("segments.contact_segments"),
              build_drift_check("segments.contact_segments", ("persona_function",))]
    first = materialize([contact_segments_asset(GOOD), downstream_publish, *checks],
                        resources=resources(tmp_path), tags={"data_date": "2026-03-01"})
    corrupt = {0: "other", 1: "other", 2: "other", 3: "data"}
    blocked = materialize([contact_segments_asset(corrupt), downstream_publish, *checks],
                          resources=resources(tmp_path), tags={"data_date": "2026-03-02"}, raise_on_error=False)
    assert not evaluation(blocked, "contact_segments_expectations").passed
    assert evaluation(blocked, "contact_segments_size_drift").metadata["previous_run_id"].value == first.run_id
    third = materialize([contact_segments_asset(GOOD), downstream_publish, *checks],
                        resources=resources(tmp_path), tags={"data_date": "2026-03-03"})
    drift = evaluation(third, "contact_segments_size_drift")
    assert drift.metadata["previous_run_id"].value == first.run_id
    assert drift.metadata["previous_data_date"].value == "2026-03-01"
    assert drift.passed and drift.metadata["segments_drifted"].value == 0    # vs night 2 it would warn
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        passed = con.execute("select data_date::varchar, run_id from quality.passed_nights order by 1").fetchall()
    assert passed == [("2026-03-01", first.run_id), ("2026-03-03", third.run_id)]


def web_events_asset(days: dict[dt.date, int]):
    @asset(key=AssetKey(["raw", "web_events"]))
    def web_events(warehouse: Warehouse) -> MaterializeResult:
        with warehouse.connect() as con:
            con.execute("create schema if not exists raw")
            con.execute("create or replace table raw.web_events (event_date date, message_id varchar, type varchar, ts timestamp)")
            for day, n in days.items():
                con.execute("""insert into raw.web_events select $day, $day::varchar || '-' || i, 'page',
                               $day::timestamp + interval 1 hour from range($n) t(i)""", {"day": day, "n": n})
        return MaterializeResult()

    return web_events


@asset(key=AssetKey(["staging", "stand_in"]), deps=[AssetKey(["raw", "web_events"])])
def downstream_of_events(context: AssetExecutionContext, folders: Folders) -> MaterializeResult:
    """Stands in for staging: writes a marker named after the run."""
    folders.exports.mkdir(parents=True, exist_ok=True)
    (folders.exports / "staged.txt").write_text(context.run.run_id)
    return MaterializeResult()


def test_stale_web_events_block_and_a_volume_drop_warns(tmp_path):
    start = dt.date(2026, 3, 1)
    days = {start + dt.timedelta(days=d): 100 for d in range(14)}
    days[start + dt.timedelta(days=14)] = 20            # the newest day: -80% against a median of 100
    newest = start + dt.timedelta(days=14)
    fresh = materialize([web_events_asset(days), downstream_of_events, *build_web_event_checks()],
                        resources=resources(tmp_path), tags={"data_date": str(newest)})
    assert fresh.success and evaluation(fresh, "web_events_freshness").passed
    volume = evaluation(fresh, "web_events_daily_volume")
    assert not volume.passed and volume.severity == AssetCheckSeverity.WARN
    assert volume.metadata["change_percent"].value == -80.0 and "outside" in volume.description
    assert (tmp_path / "exports" / "staged.txt").read_text() == fresh.run_id

    stale = materialize([web_events_asset(days), downstream_of_events, *build_web_event_checks()],
                        resources=resources(tmp_path), tags={"data_date": str(newest + dt.timedelta(days=5))},
                        raise_on_error=False)
    freshness = evaluation(stale, "web_events_freshness")
    assert not freshness.passed and freshness.severity == AssetCheckSeverity.ERROR
    assert freshness.metadata["age_days"].value == 5 and "stopped landing" in freshness.description
    assert (tmp_path / "exports" / "staged.txt").read_text() == fresh.run_id   # blocked


def raw_contacts_asset(updated: dt.datetime | None):
    """A stand-in for the raw CRM load: the real raw tables, one contact updated at `updated`."""

    @asset(key=AssetKey(["raw", "contacts"]))
    def contacts(warehouse: Warehouse) -> MaterializeResult:
        with warehouse.connect() as con:
            create_raw_tables(con)
            con.execute("delete from raw.contacts")
            con.execute("insert into raw.contacts (contact_id, updated_at) values ('c1', $updated)", {"updated": updated})
        return MaterializeResult()

    return contacts


def test_freshness_of_an_undated_run_is_measured_against_today(tmp_path, monkeypatch):
    """`make run` and sensor runs carry no data date: the data date falls back to the newest landed
    day, but freshness measures that day against the wall clock, so files that stopped landing block."""
    monkeypatch.delenv("DATA_DATE", raising=False)
    today = utc_today()
    newest = today - dt.timedelta(days=10)
    days = {newest - dt.timedelta(days=d): 100 for d in range(3)}
    assets = [web_events_asset(days), raw_contacts_asset(None), downstream_of_events, *build_web_event_checks()]
    undated = materialize(assets, resources=resources(tmp_path), raise_on_error=False)
    freshness = evaluation(undated, "web_events_freshness")
    assert not freshness.passed and freshness.severity == AssetCheckSeverity.ERROR
    assert freshness.metadata["reference"].value == "today (UTC)"
    # The check reads the clock after this test did: a run across midnight sees one day more.
    assert freshness.metadata["age_days"].value in (10, 11)
    assert "before the today (UTC)" not in freshness.description and "stopped landing" in freshness.description
    assert not (tmp_path / "exports" / "staged.txt").exists()                  # blocked

    dated = materialize(assets, resources=resources(tmp_path), tags={"data_date": str(newest)})
    freshness = evaluation(dated, "web_events_freshness")
    assert freshness.passed and freshness.metadata["reference"].value == "data date"
    assert freshness.metadata["age_days"].value == 0 and freshness.metadata["crm_age_days"].value == -1
    assert "freshness unknown" in freshness.description                        # no updated_at: not blocking
    assert (tmp_path / "exports" / "staged.txt").read_text() == dated.run_id


def test_a_stale_crm_snapshot_blocks_freshness_even_with_fresh_web_events(tmp_path):
    newest = dt.date(2026, 3, 14)
    days = {newest - dt.timedelta(days=d): 100 for d in range(3)}
    stale_crm = dt.datetime(2026, 3, 9, 17, 30)                               # 5 days old, limit 3
    result = materialize([web_events_asset(days), raw_contacts_asset(stale_crm), downstream_of_events,
                          *build_web_event_checks()],
                         resources=resources(tmp_path), tags={"data_date": str(newest)}, raise_on_error=False)
    freshness = evaluation(result, "web_events_freshness")
    assert not freshness.passed
    assert freshness.metadata["age_days"].value == 0 and freshness.metadata["crm_age_days"].value == 5
    assert freshness.metadata["crm_newest_contact_update"].value == "2026-03-09 17:30:00"
    assert "freshness.crm_max_age_days" in freshness.description and "crm/contacts.csv" in freshness.description
    assert not (tmp_path / "exports" / "staged.txt").exists()

    fresh_crm = materialize([web_events_asset(days), raw_contacts_asset(dt.datetime(2026, 3, 13, 8)),
                             downstream_of_events, *build_web_event_checks()],
                            resources=resources(tmp_path), tags={"data_date": str(newest)})
    assert evaluation(fresh_crm, "web_events_freshness").passed


def test_an_empty_data_date_warns_in_the_volume_check(tmp_path):
    """The data date's event file never landed: 0 events against a median of 100 (not "no data")."""
    start = dt.date(2026, 3, 1)
    days = {start + dt.timedelta(days=d): 100 for d in range(14)}
    data_date = start + dt.timedelta(days=14)                                  # nothing landed for it
    result = materialize([web_events_asset(days), downstream_of_events, *build_web_event_checks()],
                         resources=resources(tmp_path), tags={"data_date": str(data_date)})
    volume = evaluation(result, "web_events_daily_volume")
    assert not volume.passed and volume.severity == AssetCheckSeverity.WARN
    assert volume.metadata["day"].value == str(data_date) and volume.metadata["events"].value == 0
    assert volume.metadata["change_percent"].value == -100.0
    assert evaluation(result, "web_events_freshness").passed                   # 1 day old: within the limit


def test_the_package_builds_one_check_set_for_the_configured_tables():
    names = {(spec.asset_key.to_user_string(), spec.name)
             for c in build_quality_checks() for spec in c.check_specs}
    assert ("segments/contact_segments", "contact_segments_expectations") in names
    assert ("segments/contact_segments", "contact_segments_size_drift") in names
    assert ("raw/web_events", "web_events_freshness") in names
    assert ("staging/accounts", "accounts_expectations") in names and ("raw/accounts", "accounts_expectations") in names
    only_segments = build_quality_checks(("segments.account_segments",))
    assert {spec.name for c in only_segments for spec in c.check_specs} == {
        "account_segments_expectations", "account_segments_size_drift"}
