"""Deterministic holdout groups and the `audiences.members` table.

A member is in the holdout when `hash_unit(audience, contact_id) < holdout_share`. The hash is md5 of
`<audience>:<contact_id>`, its first 8 hex digits read as an unsigned integer, divided by 2^32. md5 is
identical in every engine and version (unlike Python's `hash()` or Polars' hash), so the group is stable
night to night, and an analyst can recompute it anywhere. The SQL (`sql/audiences/members.sql`) does it
for the whole table; `hash_unit` here is the same formula for one pair, for tests and analysts.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import polars as pl

from assets.audiences.eligibility import MEMBER_SCHEMA
from assets.sql_files import run_sql
from assets.warehouse_tables import registered

ELIGIBLE_VIEW = "eligible_members"  # the name sql/audiences/members.sql reads


def hash_unit(audience: str, contact_id: str) -> float:
    """The holdout hash of one (audience, contact_id), in [0, 1): md5 -> first 8 hex digits / 2^32."""
    digest = hashlib.md5(f"{audience}:{contact_id}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 2**32


def write_members(con: duckdb.DuckDBPyConnection, members: pl.DataFrame, as_of: dt.date) -> None:
    """Replace `audiences.members` with `members` (audience, contact_id, account_id, holdout_share),
    each assigned to treatment or holdout (see the module docstring)."""
    missing = [c for c in MEMBER_SCHEMA if c not in members.columns]
    if missing:
        raise ValueError(f"write_members: the members frame lacks {missing}; build it with audience_eligibility()")
    frame = members.select(list(MEMBER_SCHEMA)).cast(MEMBER_SCHEMA)
    with registered(con, ELIGIBLE_VIEW, frame):
        run_sql(con, "audiences/members", {"as_of": as_of})
