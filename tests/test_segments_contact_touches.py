"""segments.contact_segments from real staging: first touch (anonymous history included), last
non-direct touch, the CRM lead source when there is no web session, and the account's size."""
from __future__ import annotations

import datetime as dt

import duckdb
from dagster import AssetKey, materialize

from assets.segments.assets import account_segments, contact_personas, contact_segments
from test_raw_assets import resources
from test_staging_fixtures import contact, form, page, rows, stage, warehouse, web_rules, write_raw  # noqa: F401

SITE = "https://northwindanalytics.com"


def build(tmp_path, con, web_rules) -> dict[str, dict]:
    stage(con, web_rules)
    con.close()
    result = materialize([contact_personas, account_segments, contact_segments], resources=resources(tmp_path),
                         tags={"segmentation/data_date": "2026-03-31"})
    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as ro:
        found = {r["contact_id"]: r for r in rows(ro, "select * from segments.contact_segments")}
    materialized = next(m for m in result.get_asset_materialization_events()
                        if m.asset_key == AssetKey(["segments", "contact_segments"]))
    return found, {k: v.value for k, v in materialized.materialization.metadata.items()}


def test_first_touch_last_non_direct_touch_and_crm_fallback(tmp_path, warehouse, web_rules):
    write_raw(warehouse, "accounts", [{"account_id": "A1", "name": "Acme", "employee_count": "2,500"}])
    write_raw(warehouse, "contacts", [
        contact("c1", "lee@acme.com", account_id="A1", job_title="VP Marketing", lead_source="Trade Show"),
        contact("c2", "kim@acme.com", account_id="A1", job_title="Sales Manager", lead_source="Trade Show"),
        contact("c3", "max@beta.io", job_title="Engineer", lead_source="PAID_SOCIAL"),
    ])
    write_raw(warehouse, "web_events", [
        # c1: an organic search visit weeks before identifying, then direct, LinkedIn ads, direct again
        page("m1", "a1", "2026-02-01 09:00", referrer="https://www.google.com/"),
        page("m2", "a1", "2026-03-01 09:00"),
        form("m3", "a1", "2026-03-01 09:05", "Lee@Acme.com"),
        page("m4", "a1", "2026-03-05 09:00", url=f"{SITE}/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q1"),
        page("m5", "a1", "2026-03-10 09:00"),
        # c3: only direct visits
        page("m6", "a3", "2026-03-02 10:00"),
        form("m7", "a3", "2026-03-02 10:01", "max@beta.io"),
    ])
    found, metadata = build(tmp_path, warehouse, web_rules)

    lee = found["c1"]
    assert (lee["first_touch_channel"], lee["first_touch_source"], lee["first_touch_medium"]) == ("Organic Search", "google", "organic")
    assert lee["first_touch_at"] == dt.datetime(2026, 2, 1, 9, 0)
    assert lee["last_touch_channel"] == "Paid Social" and lee["lead_source_channel"] == "Organic Search"
    assert (lee["company_size_band"], lee["company_tier"], lee["persona_function"], lee["persona_seniority"]) == (
        "1001-5000", "enterprise", "marketing", "vp")

    kim = found["c2"]  # no web session: the CRM lead source, mapped to the same vocabulary
    assert kim["first_touch_channel"] is None and kim["last_touch_channel"] is None
    assert kim["lead_source_channel"] == "Offline"

    max_ = found["c3"]  # direct only: last touch is as direct as the first; no account: size unknown
    assert (max_["first_touch_channel"], max_["last_touch_channel"], max_["lead_source_channel"]) == ("Direct", "Direct", "Direct")
    assert (max_["company_size_band"], max_["company_tier"]) == ("unknown", "unknown")

    for key in ("first_touch_channel", "last_touch_channel", "lead_source_channel", "persona_seniority", "company_tier"):
        assert f"distribution/{key}" in metadata
    assert "| Organic Search | 1 | 33.3% |" in metadata["distribution/first_touch_channel"]
    assert metadata["customer_share"] == 0.0
