"""build_state.content_events: the rows of staging.events the content interests read (the counted
event names of config/content.yaml), kept in step with staging.events by the incremental events build
instead of found again among every event each night.

The copy records the event names it holds and the fingerprint of the SQL that made it
(build_state.content_events_spec). It is rebuilt from all of staging.events when either differs, or
when there is no spec (the first night, or after a full events build, which empties it). Otherwise
the events build has already applied tonight's changes (sql/staging/events_merge.sql), and
tests/test_staging_incremental.py asserts the copy equals the rows a full rebuild gives.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

import duckdb

from assets.sql_files import run_sql, sql_text
from assets.staging.incremental import in_transaction

REBUILD = "segments/content_events_rebuild"


def refresh_content_events(con: duckdb.DuckDBPyConnection, events: Sequence[str]) -> str:
    """Make build_state.content_events hold the staging.events rows of `events`: `kept` (it already
    does) or `rebuilt` (from all events), in one transaction: the copy and its spec change together."""
    wanted = sorted(set(events))
    definition = hashlib.sha256(sql_text(REBUILD).encode("utf-8")).hexdigest()[:16]

    def refresh() -> str:
        run_sql(con, "staging/build_state")
        names, made_by, specs = con.execute(
            "select any_value(events), any_value(fingerprint), count(*) from build_state.content_events_spec").fetchone()
        if specs == 1 and list(names or []) == wanted and made_by == definition:
            return "kept"
        run_sql(con, REBUILD, {"events": wanted, "fingerprint": definition})
        return "rebuilt"

    return in_transaction(con, refresh)
