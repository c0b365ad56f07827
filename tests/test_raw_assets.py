"""The raw assets materialised with real resources on a tmp landing folder and warehouse."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from dagster import AssetKey, materialize

from assets.raw.assets import raw_crm, raw_quarantine, raw_web_events
from assets.raw.landing import CRM_ENTITIES
from assets.raw.vendor_formats import CANONICAL_COLUMNS
from test_raw_crm_load import GOOD, write_csv
from test_raw_web_events import GOOD_LINES, event, write_day
from workflows.resources import Folders, Warehouse
from workflows.settings import REPO_ROOT

RAW_ASSETS = [raw_crm, raw_web_events, raw_quarantine]


def resources(tmp_path: Path) -> dict:
    return {
        "warehouse": Warehouse(path=str(tmp_path / "warehouse.duckdb")),
        "folders": Folders(landing_dir=str(tmp_path / "landing"), export_dir=str(tmp_path / "exports"),
                           report_dir=str(tmp_path / "reports"), config_dir=str(REPO_ROOT / "config")),
    }


def make_landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for entity in CRM_ENTITIES:
        rows = [list(r) for r in GOOD[entity]]
        if entity == "accounts":
            rows.append(["A9", "Bad", "b.com", "X", "many", "", "US", "", "", "", "2024-01-01"])
        write_csv(root / "crm" / f"{entity}.csv", list(CANONICAL_COLUMNS[entity]), rows)
    write_day(root, dt.date(2026, 3, 1), [*GOOD_LINES, b"{broken"])
    write_day(root, dt.date(2026, 3, 2), [event("d2", "2026-03-02T08:00:00Z")])
    write_day(root, dt.date(2026, 3, 3), [b"{broken too"])  # a day of quarantined lines only: no rows
    return root


def metadata(result, key: list[str]) -> dict:
    materializations = [m for m in result.get_asset_materialization_events() if m.asset_key == AssetKey(key)]
    assert len(materializations) == 1
    return {k: v.value for k, v in materializations[0].materialization.metadata.items()}


def test_raw_assets_materialize_with_counts_and_quarantine_report(tmp_path):
    make_landing(tmp_path)
    result = materialize(RAW_ASSETS, resources=resources(tmp_path))
    assert result.success
    accounts = metadata(result, ["raw", "accounts"])
    assert accounts["dagster/row_count"] == 3 and accounts["rows_quarantined"] == 1
    assert accounts["formats_detected"] == "canonical" and accounts["files_read"] == 1
    web = metadata(result, ["raw", "web_events"])
    assert (web["rows_loaded"], web["rows_quarantined"], web["files_read"], web["days_in_table"]) == (6, 2, 3, 2)
    assert (web["first_day"], web["last_day"]) == ("2026-03-01", "2026-03-02")
    quarantine = metadata(result, ["raw", "quarantine"])
    assert quarantine["rows_quarantined"] == 3
    assert "| accounts: not an employee count (integer or range) in employee_count | 1 |" in quarantine["distribution/reason"]
    assert "| web_events: broken JSON | 2 |" in quarantine["distribution/reason"]

    # nightly again: unchanged day files are skipped; a backfill range forces a reload
    again = materialize([raw_web_events], resources=resources(tmp_path))
    assert metadata(again, ["raw", "web_events"])["files_skipped_unchanged"] == 3
    backfill = materialize([raw_web_events], resources=resources(tmp_path), run_config={
        "ops": {"raw__web_events": {"config": {"start_date": "2026-03-02", "end_date": "2026-03-02"}}}})
    assert metadata(backfill, ["raw", "web_events"])["files_read"] == 1
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.web_events").fetchone()[0] == 6


def test_structural_error_fails_the_run_without_retry_and_without_changes(tmp_path):
    root = make_landing(tmp_path)
    (root / "crm" / "contacts.csv").write_text("first_name,last_name\nAnn,Lee\n")
    result = materialize([raw_crm], resources=resources(tmp_path), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert "contacts.csv: not a recognised contacts export: missing required column(s) contact_id, email" in message
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    assert not (tmp_path / "warehouse.duckdb").exists() or duckdb.connect(
        str(tmp_path / "warehouse.duckdb")).execute(
        "select count(*) from information_schema.tables where table_schema = 'raw'").fetchone()[0] == 0


def raw_tables(tmp_path: Path) -> dict[str, list[tuple]]:
    """Every raw table's rows (empty when the warehouse or the table does not exist yet)."""
    path = tmp_path / "warehouse.duckdb"
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1").fetchall()]
        return {n: con.table(f"raw.{n}").order("all").fetchall() for n in names}


def failure_messages(result) -> list[str]:
    return [e.step_failure_data.error.message + str(e.step_failure_data.user_failure_data)
            for e in result.all_events if e.event_type_value == "STEP_FAILURE"]


def test_a_broken_crm_file_stops_the_web_load_too_before_any_table_changes(tmp_path):
    """Whichever raw asset runs first, a structural problem anywhere changes no raw table."""
    root = make_landing(tmp_path)
    assert materialize(RAW_ASSETS, resources=resources(tmp_path)).success
    before = raw_tables(tmp_path)
    write_day(root, dt.date(2026, 3, 3), [event("d3", "2026-03-03T08:00:00Z")])  # new day: would load
    (root / "crm" / "contacts.csv").write_text("first_name,last_name\nAnn,Lee\n")
    result = materialize(RAW_ASSETS, resources=resources(tmp_path), raise_on_error=False)
    assert not result.success
    messages = failure_messages(result)
    assert len(messages) == 2 and all("contacts.csv: not a recognised contacts export" in m for m in messages)
    assert raw_tables(tmp_path) == before


def test_an_empty_or_misnamed_day_file_stops_the_crm_load_too(tmp_path):
    root = make_landing(tmp_path)
    assert materialize(RAW_ASSETS, resources=resources(tmp_path)).success
    before = raw_tables(tmp_path)
    (root / "web" / "events" / "2026-03-02.jsonl").write_bytes(b"")  # truncated: would delete the day
    (root / "web" / "events" / "march.jsonl").write_text("{}\n")
    rows = [list(r) for r in GOOD["accounts"]][:1]  # a changed CRM snapshot: would replace raw.accounts
    write_csv(root / "crm" / "accounts.csv", list(CANONICAL_COLUMNS["accounts"]), rows)
    result = materialize(RAW_ASSETS, resources=resources(tmp_path), raise_on_error=False)
    assert not result.success
    for message in failure_messages(result):
        assert "2026-03-02.jsonl: the day file is empty" in message and "march.jsonl: not a day file" in message
    assert raw_tables(tmp_path) == before


def test_ingestion_steps_retry_as_config_pipeline_yaml_says():
    from workflows.pipeline_config import load_pipeline_config

    config = load_pipeline_config()
    for asset_def in (raw_crm, raw_web_events):
        policy = asset_def.op.retry_policy
        assert (policy.max_retries, policy.delay) == (config.max_retries, config.retry_delay_s)
        assert policy.backoff.value == "EXPONENTIAL"


def test_the_quarantine_report_is_in_the_quality_group():
    assert raw_quarantine.group_names_by_key[AssetKey(["raw", "quarantine"])] == "quality"
    assert {raw_crm.group_names_by_key[k] for k in raw_crm.keys} | {raw_web_events.group_names_by_key[raw_web_events.key]} == {"raw"}
