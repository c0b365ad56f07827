"""build_state.contact_touches: every contact's first and last web touch, kept up to date with
staging.sessions instead of recomputed from all sessions every night.

The sessions build queues the contacts whose sessions it replaced or added (build_state.touches_pending;
a NULL row after a full sessions build), and only their touches are recomputed, from all of their
sessions, by the same SQL as a full computation (sql/segments/contact_touches.sql), so the table is
what a full computation gives (tests/test_staging_incremental.py asserts it). Everything is
recomputed when the table is missing, the queue says so or the SQL changed (its fingerprint).
"""
from __future__ import annotations

import hashlib

import duckdb

from assets.sql_files import run_sql, sql_text
from assets.staging.incremental import BuildInfo, built_with, in_transaction, utc_now
from assets.warehouse_tables import table_exists

MODEL = "contact_touches"
TABLE = ("build_state", "contact_touches")


def touches_fingerprint() -> str:
    """The touch logic the table was computed with."""
    return hashlib.sha256(sql_text("segments/contact_touches").encode("utf-8")).hexdigest()[:16]


def update_contact_touches(con: duckdb.DuckDBPyConnection) -> BuildInfo:
    """Bring build_state.contact_touches up to date: the queued contacts' touches, or everyone's.
    `rebuilt` counts the contacts whose touches were recomputed and have a session."""
    wanted = touches_fingerprint()

    def build() -> BuildInfo:
        run_sql(con, "staging/build_state")
        everyone = con.execute("select count(*) filter (where contact_id is null) > 0 from build_state.touches_pending").fetchone()[0]
        full = everyone or not table_exists(con, *TABLE) or built_with(con, MODEL) != wanted
        run_sql(con, "segments/touch_sessions_all" if full else "segments/touch_sessions_pending")
        run_sql(con, "segments/contact_touches")
        # the write's own count: one row per recomputed contact (no second pass over the sessions)
        rebuilt = run_sql(con, "segments/touches_replace" if full else "segments/touches_merge").fetchone()[0]
        run_sql(con, "segments/touches_record_build", {"fingerprint": wanted, "recorded_at": utc_now()})
        con.execute("drop view touches_computed; drop view touch_sessions")
        return BuildInfo("full" if full else "incremental", rebuilt)

    return in_transaction(con, build)
