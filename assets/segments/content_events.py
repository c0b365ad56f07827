"""build_state.content_events: the rows of staging.events the content interests read (the counted
event names of config/content.yaml), kept in step with staging.events by the incremental events build
instead of found again among every event each night.

The copy records the event names it holds (build_state.content_events_spec). It is rebuilt from all of
staging.events when those differ from the configured ones, or when there are none (the first night, or
after a full events build, which empties the spec). Otherwise the events build has already applied
tonight's changes (sql/staging/events_merge.sql), and tests/test_staging_incremental.py asserts the
copy equals the rows a full rebuild gives.
"""
from __future__ import annotations

from typing import Sequence

import duckdb

from assets.sql_files import run_sql
from assets.staging.incremental import in_transaction


def refresh_content_events(con: duckdb.DuckDBPyConnection, events: Sequence[str]) -> str:
    """Make build_state.content_events hold the staging.events rows of `events`: `kept` (it already
    does) or `rebuilt` (from all events), in one transaction: the copy and its spec change together."""
    wanted = sorted(set(events))

    def refresh() -> str:
        run_sql(con, "staging/build_state")
        spec = con.execute("select any_value(events), count(*) from build_state.content_events_spec").fetchone()
        if spec[1] == 1 and list(spec[0] or []) == wanted:
            return "kept"
        run_sql(con, "segments/content_events_rebuild", {"events": wanted})
        return "rebuilt"

    return in_transaction(con, refresh)
