"""The staging assets materialise through Dagster (real resources on a tmp warehouse) with metadata."""
from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetKey, load_assets_from_modules, materialize

from assets.staging import assets as staging_assets
from test_staging_fixtures import contact, empty_raw, form, page, write_raw
from workflows.resources import Folders, Warehouse
from workflows.settings import REPO_ROOT

TABLES = {"suppressions", "contacts", "contact_id_map", "accounts", "opportunities", "subscriptions",
          "identity_map", "events", "sessions"}


def test_every_staging_asset_materialises_with_its_metadata(tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    empty_raw(con)
    write_raw(con, "contacts", [contact("c1", "ann@acme.com", updated="2025-01-01 00:00"),
                                contact("c2", "ANN@acme.com", updated="2026-01-01 00:00")])
    write_raw(con, "subscriptions", [{"subscription_id": "s1", "status": "active", "started_at": None}])
    write_raw(con, "web_events", [
        page("m1", "a1", "2026-03-01 09:00", referrer="https://www.google.com/"),
        form("m2", "a1", "2026-03-01 09:01", "ann@acme.com"),
        page("m3", "bot", "2026-03-01 09:00", user_agent="Googlebot/2.1"),
        page("m3", "bot", "2026-03-01 09:00", user_agent="Googlebot/2.1"),
    ])
    con.close()

    defs = load_assets_from_modules([staging_assets])
    keys = {a.key for a in defs}
    assert keys == {AssetKey(["staging", t]) for t in TABLES}
    assert {a.group_names_by_key[a.key] for a in defs} == {"staging"}
    deps = {a.key.path[1]: {k.to_user_string() for k in a.dependency_keys} for a in defs}
    assert deps["events"] == {"raw/web_events", "staging/identity_map", "staging/contact_id_map"}
    assert deps["contacts"] == {"raw/contacts", "staging/suppressions"}

    result = materialize(
        defs,
        resources={
            "warehouse": Warehouse(path=str(path)),
            "folders": Folders(landing_dir=str(tmp_path / "landing"), export_dir=str(tmp_path / "exports"),
                               report_dir=str(tmp_path / "reports"), config_dir=str(REPO_ROOT / "config")),
        },
        tags={"data_date": "2026-03-31"},
    )
    assert result.success
    metadata = {
        m.asset_key.path[1]: m.metadata for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    assert set(metadata) == TABLES
    assert metadata["contacts"]["dagster/row_count"].value == 1
    assert metadata["contacts"]["duplicates_merged"].value == 1
    assert metadata["events"]["duplicate_messages_removed"].value == 1
    assert metadata["events"]["bot_share"].value == round(1 / 3, 4)
    assert metadata["sessions"]["identified_share"].value == 1.0
    assert "google / organic" in metadata["sessions"]["distribution/source_medium_top10"].value
    assert metadata["subscriptions"]["as_of"].value == "2026-03-31"
    assert metadata["identity_map"]["distribution/method"].value.count("form") == 1
    assert "ann@acme.com" not in metadata["contacts"]["preview"].value  # previews mask emails
