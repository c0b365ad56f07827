"""Hand-built staging and segments tables (as docs/tables.md describes them) and a config folder, for the
audience and publish tests. Holds only a test of the builders; the other test_audiences_* and
test_publish_assets modules import its helpers.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import yaml

from workflows.settings import REPO_ROOT

DAY = dt.date(2026, 11, 24)
TS = pl.Datetime("us")
CONTACTS_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.String, "account_id": pl.String, "email": pl.String, "email_normalized": pl.String,
    "email_valid": pl.Boolean, "email_domain": pl.String, "is_personal_email": pl.Boolean,
    "first_name": pl.String, "last_name": pl.String, "job_title": pl.String, "phone": pl.String,
    "city": pl.String, "state": pl.String, "zip": pl.String, "country": pl.String, "lead_source": pl.String,
    "lifecycle_stage": pl.String, "email_opt_out": pl.Boolean, "is_suppressed": pl.Boolean,
    "created_at": TS, "updated_at": TS, "merged_contact_ids": pl.List(pl.String), "duplicate_count": pl.Int32,
}
SEGMENTS_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.String, "account_id": pl.String, "persona_function": pl.String,
    "persona_seniority": pl.String, "persona": pl.String, "first_touch_channel": pl.String,
    "first_touch_source": pl.String, "first_touch_medium": pl.String, "first_touch_campaign": pl.String,
    "first_touch_at": TS, "last_touch_channel": pl.String, "lead_source_channel": pl.String,
    "content_interests": pl.List(pl.String), "nurture_track": pl.String, "company_size_band": pl.String,
    "company_tier": pl.String, "is_customer": pl.Boolean, "upsell_candidate": pl.Boolean,
}
ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String, "name": pl.String, "domain": pl.String, "industry": pl.String,
    "employee_count": pl.String, "annual_revenue": pl.Float64, "country": pl.String, "city": pl.String,
    "state": pl.String, "zip": pl.String, "created_at": TS,
}
SUPPRESSIONS_SCHEMA: dict[str, pl.DataType] = {"email_normalized": pl.String, "reason": pl.String, "added_at": TS}


def contact(i: int, **changes) -> dict:
    """A staging.contacts row: valid email, US phone, not opted out, not suppressed; `changes` override."""
    email = changes.pop("email", f"person{i}@example{i % 7}.com")
    row = {
        "contact_id": f"c{i:05d}", "account_id": f"a{i % 40:03d}", "email": email,
        "email_normalized": email.strip().lower() if email else None, "email_valid": email is not None,
        "email_domain": None, "is_personal_email": False, "first_name": f"First{i}", "last_name": f"Last{i}",
        "job_title": "Marketing Director", "phone": None, "city": "San Francisco", "state": "CA",
        "zip": "94105", "country": "US", "lead_source": None, "lifecycle_stage": None, "email_opt_out": False,
        "is_suppressed": False, "created_at": None, "updated_at": None, "merged_contact_ids": [f"c{i:05d}"],
        "duplicate_count": 0,
    }
    return row | changes


def segment(i: int, **changes) -> dict:
    """A segments.contact_segments row: a marketing director at a customer account; `changes` override."""
    row = {c: None for c in SEGMENTS_SCHEMA} | {
        "contact_id": f"c{i:05d}", "account_id": f"a{i % 40:03d}", "persona_function": "marketing",
        "persona_seniority": "director", "nurture_track": "paid-media", "company_tier": "enterprise",
        "is_customer": True, "upsell_candidate": True, "content_interests": [],
    }
    return row | changes


def account(i: int, **changes) -> dict:
    """A staging.accounts row."""
    return {c: None for c in ACCOUNTS_SCHEMA} | {
        "account_id": f"a{i:03d}", "name": f"Acme {i}", "domain": f"acme{i}.com", "industry": "Software",
        "country": "US", "city": "Austin", "state": "TX", "zip": "73301",
    } | changes


def frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows as a frame with exactly the table's columns and types."""
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def write_tables(
    db: Path, contacts: list[dict], segments: list[dict], accounts: list[dict] | None = None,
    suppressions: list[str] | None = None,
) -> Path:
    """Create (replace) staging.contacts/accounts/suppressions and segments.contact_segments in `db`."""
    with duckdb.connect(str(db)) as con:
        load_tables(con, contacts, segments, accounts, suppressions)
    return db


def load_tables(
    con: duckdb.DuckDBPyConnection, contacts: list[dict], segments: list[dict],
    accounts: list[dict] | None = None, suppressions: list[str] | None = None,
) -> None:
    """`write_tables` on an open connection (e.g. an in-memory database)."""
    accounts = accounts if accounts is not None else [account(i) for i in range(40)]
    suppressed = [{"email_normalized": e, "reason": "request", "added_at": None} for e in suppressions or []]
    tables = {
        "staging.contacts": frame(contacts, CONTACTS_SCHEMA),
        "staging.accounts": frame(accounts, ACCOUNTS_SCHEMA),
        "staging.suppressions": frame(suppressed, SUPPRESSIONS_SCHEMA),
        "segments.contact_segments": frame(segments, SEGMENTS_SCHEMA),
    }
    con.execute("create schema if not exists staging; create schema if not exists segments")
    for name, df in tables.items():
        con.execute(f"drop table if exists {name}")  # test-only: names are the constants above
        con.from_arrow(df.to_arrow()).create(name)


def config_dir(tmp: Path, audiences: list[dict], min_sizes: dict[str, int] | None = None) -> Path:
    """A config folder: the repository's content.yaml, destinations.yaml with `min_sizes`, and `audiences`."""
    folder = tmp / "config"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "config" / "content.yaml", folder / "content.yaml")
    destinations = yaml.safe_load((REPO_ROOT / "config" / "destinations.yaml").read_text())
    for name, size in (min_sizes or {}).items():
        destinations["destinations"][name]["min_size"] = size
    (folder / "destinations.yaml").write_text(yaml.safe_dump(destinations))
    (folder / "audiences.yaml").write_text(yaml.safe_dump({"audiences": audiences}, sort_keys=False))
    return folder


def test_builders_write_the_contract_tables(tmp_path):
    db = write_tables(tmp_path / "w.duckdb", [contact(1)], [segment(1)], suppressions=["x@example.com"])
    with duckdb.connect(str(db)) as con:
        columns = con.execute(
            "select table_schema || '.' || table_name, count(*) from information_schema.columns group by 1 order by 1"
        ).fetchall()
    assert dict(columns) == {"segments.contact_segments": len(SEGMENTS_SCHEMA), "staging.accounts": len(ACCOUNTS_SCHEMA),
                             "staging.contacts": len(CONTACTS_SCHEMA), "staging.suppressions": 3}
