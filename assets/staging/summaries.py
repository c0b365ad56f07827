"""Extra asset metadata per staging table: the numbers a reviewer looks at after a night's run.

Each function takes the warehouse connection and returns metadata entries (added to `table_metadata`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import duckdb
from dagster import MetadataValue

from assets.metadata import distribution_md

Summary = Callable[[duckdb.DuckDBPyConnection, dt.date], dict[str, Any]]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchone()


def _share(part: int | None, whole: int | None) -> MetadataValue:
    return MetadataValue.float(round((part or 0) / whole, 4) if whole else 0.0)


def contacts_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Records merged, invalid / personal / opted-out / suppressed people."""
    people, merged, invalid, personal, opted_out, suppressed = _one(
        con,
        "select count(*), sum(duplicate_count), count(*) filter (where not email_valid), "
        "count(*) filter (where is_personal_email), count(*) filter (where email_opt_out), "
        "count(*) filter (where is_suppressed) from staging.contacts",
    )
    return {
        "duplicates_merged": MetadataValue.int(int(merged or 0)),
        "invalid_or_missing_email": MetadataValue.int(int(invalid or 0)),
        "personal_email_share": _share(personal, people),
        "email_opt_out": MetadataValue.int(int(opted_out or 0)),
        "suppressed": MetadataValue.int(int(suppressed or 0)),
    }


def contact_id_map_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """How many CRM ids point to another (surviving) record."""
    (remapped,) = _one(con, "select count(*) from staging.contact_id_map where source_contact_id <> contact_id")
    return {"ids_merged_into_a_survivor": MetadataValue.int(int(remapped))}


def accounts_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Duplicate account ids dropped and accounts without a usable domain."""
    raw_rows, staged, no_domain = _one(
        con,
        "select (select count(*) from raw.accounts where account_id is not null), count(*), "
        "count(*) filter (where domain is null) from staging.accounts",
    )
    return {
        "duplicate_ids_dropped": MetadataValue.int(int(raw_rows - staged)),
        "without_domain": MetadataValue.int(int(no_domain)),
    }


def opportunities_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Opportunities per normalised type."""
    counts = con.sql("select type, count(*) as n from staging.opportunities group by type order by n desc, type").pl()
    return {"distribution/type": distribution_md(counts, "type", "n")}


def subscriptions_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Active subscriptions on the data date, and statuses."""
    (active,) = _one(con, "select count(*) filter (where is_active_as_of) from staging.subscriptions")
    counts = con.sql(
        "select coalesce(status, '(none)') as status, count(*) as n from staging.subscriptions group by 1 order by n desc, 1"
    ).pl()
    return {
        "as_of": MetadataValue.text(as_of.isoformat()),
        "active_as_of": MetadataValue.int(int(active)),
        "distribution/status": distribution_md(counts, "status", "n"),
    }


def identity_map_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Anonymous ids tied to a contact, per method."""
    counts = con.sql("select method, count(*) as n from staging.identity_map group by method order by n desc, method").pl()
    return {"distribution/method": distribution_md(counts, "method", "n")}


def events_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Duplicate deliveries removed, bot share, identified share of human events."""
    raw_rows, staged, bots, identified = _one(
        con,
        "select (select count(*) from raw.web_events), count(*), count(*) filter (where is_bot), "
        "count(*) filter (where not is_bot and contact_id is not null) from staging.events",
    )
    return {
        "duplicate_messages_removed": MetadataValue.int(int(raw_rows - staged)),
        "bot_share": _share(bots, staged),
        "identified_share_of_human_events": _share(identified, staged - bots),
    }


def sessions_summary(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """Identified and direct shares, and the top 10 source / medium pairs."""
    sessions, identified, direct = _one(
        con,
        "select count(*), count(*) filter (where contact_id is not null), count(*) filter (where is_direct) "
        "from staging.sessions",
    )
    top = con.sql(
        "select source || ' / ' || medium as source_medium, count(*) as n from staging.sessions "
        "group by 1 order by n desc, 1 limit 10"
    ).pl()
    return {
        "identified_share": _share(identified, sessions),
        "direct_share": _share(direct, sessions),
        "distribution/source_medium_top10": distribution_md(top, "source_medium", "n"),
    }
