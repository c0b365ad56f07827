"""Hand-built raw tables (exactly as docs/tables.md describes them) for the staging tests.

Holds no tests of its own; the other test_staging_* modules import its helpers.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.staging.models import build_staging
from assets.staging.web_rules import WebRules, load_web_rules

AS_OF = dt.date(2026, 3, 31)

LINEAGE = {"_source_file": pl.String, "_line": pl.Int64, "_format": pl.String, "_extra": pl.String, "_loaded_at": pl.Datetime("us")}
TS = pl.Datetime("us")
RAW_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "accounts": {
        "account_id": pl.String, "name": pl.String, "domain": pl.String, "industry": pl.String,
        "employee_count": pl.String, "annual_revenue": pl.Float64, "country": pl.String, "city": pl.String,
        "state": pl.String, "zip": pl.String, "created_at": TS,
    },
    "contacts": {
        "contact_id": pl.String, "account_id": pl.String, "email": pl.String, "first_name": pl.String,
        "last_name": pl.String, "job_title": pl.String, "phone": pl.String, "city": pl.String, "state": pl.String,
        "zip": pl.String, "country": pl.String, "lead_source": pl.String, "lifecycle_stage": pl.String,
        "email_opt_out": pl.Boolean, "created_at": TS, "updated_at": TS,
    },
    "opportunities": {
        "opportunity_id": pl.String, "account_id": pl.String, "contact_id": pl.String, "type": pl.String,
        "stage": pl.String, "amount": pl.Float64, "created_at": TS, "closed_at": TS, "is_won": pl.Boolean,
    },
    "subscriptions": {
        "subscription_id": pl.String, "account_id": pl.String, "plan": pl.String, "seats_purchased": pl.Int32,
        "seats_active": pl.Int32, "mrr": pl.Float64, "started_at": TS, "ends_at": TS, "status": pl.String,
    },
    "suppressions": {"email": pl.String, "reason": pl.String, "added_at": TS},
    "web_events": {
        "event_date": pl.Date, "message_id": pl.String, "type": pl.String, "event": pl.String,
        "anonymous_id": pl.String, "user_id": pl.String, "ts": TS, "page_url": pl.String, "page_path": pl.String,
        "page_referrer": pl.String, "page_title": pl.String, "campaign_source": pl.String,
        "campaign_medium": pl.String, "campaign_name": pl.String, "campaign_term": pl.String,
        "campaign_content": pl.String, "user_agent": pl.String, "traits_email": pl.String, "properties": pl.String,
    },
}
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def ts(text: str) -> dt.datetime:
    """`"2026-03-01 10:00"` -> datetime (tests read better with text timestamps)."""
    return dt.datetime.fromisoformat(text)


def raw_frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """Rows (dicts with any subset of the contract's columns) as a frame with every raw column."""
    schema = {**RAW_COLUMNS[table], **LINEAGE}
    unknown = {key for row in rows for key in row} - schema.keys()
    if unknown:
        raise KeyError(f"raw.{table} has no column(s) {sorted(unknown)}")
    filled = []
    for line, row in enumerate(rows, start=2):
        row = {"_source_file": f"{table}.csv", "_line": line, "_format": "canonical", **row}
        if isinstance(row.get("properties"), dict):
            row["properties"] = json.dumps(row["properties"])
        filled.append({name: row.get(name) for name in schema})
    return pl.DataFrame(filled, schema=schema)


def _relation(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> duckdb.DuckDBPyRelation:
    rel = con.from_arrow(raw_frame(table, rows).to_arrow())
    if table == "web_events":
        return rel.project("* replace (properties::json as properties, _extra::json as _extra)")
    return rel.project("* replace (_extra::json as _extra)")


def write_raw(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Append rows to `raw.<table>` (created empty by `empty_raw`; the name is a RAW_COLUMNS key)."""
    _relation(con, table, rows).insert_into(f"raw.{table}")


def empty_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table (suppressions too), empty, typed as in docs/tables.md."""
    con.execute("create schema if not exists raw")
    for table in RAW_COLUMNS:
        _relation(con, table, []).create(f"raw.{table}")


def page(message_id: str, anonymous_id: str | None, at: str, url: str = "https://northwindanalytics.com/",
         referrer: str | None = None, **extra) -> dict:
    """A `page` event row for raw.web_events."""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[1].split("?")[0] if url.count("/") > 2 else "/"
    return {
        "event_date": ts(at).date(), "message_id": message_id, "type": "page", "anonymous_id": anonymous_id,
        "ts": ts(at), "page_url": url, "page_path": path, "page_referrer": referrer, "user_agent": BROWSER, **extra,
    }


def identify(message_id: str, anonymous_id: str, at: str, email: str, user_id: str | None = None) -> dict:
    """An `identify` event row with traits.email."""
    return {
        "event_date": ts(at).date(), "message_id": message_id, "type": "identify", "anonymous_id": anonymous_id,
        "user_id": user_id, "ts": ts(at), "traits_email": email, "user_agent": BROWSER,
    }


def form(message_id: str, anonymous_id: str, at: str, email: str, **properties) -> dict:
    """A `Form Submitted` track event row with properties.email."""
    return {
        "event_date": ts(at).date(), "message_id": message_id, "type": "track", "event": "Form Submitted",
        "anonymous_id": anonymous_id, "ts": ts(at), "user_agent": BROWSER,
        "properties": {"form_id": "f1", "email": email, **properties},
    }


def contact(contact_id: str, email: str | None, updated: str = "2026-01-01 00:00", created: str = "2025-01-01 00:00", **extra) -> dict:
    """A raw.contacts row."""
    return {"contact_id": contact_id, "email": email, "created_at": ts(created), "updated_at": ts(updated), **extra}


@pytest.fixture(scope="session")
def web_rules() -> WebRules:
    """The repository's config/web.yaml."""
    return load_web_rules()


@pytest.fixture
def warehouse(tmp_path: Path):
    """A fresh DuckDB file with empty raw tables."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    empty_raw(con)
    yield con
    con.close()


def stage(con: duckdb.DuckDBPyConnection, rules: WebRules, as_of: dt.date = AS_OF) -> None:
    """Run every staging model."""
    build_staging(con, rules, as_of)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Query results as dicts."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
