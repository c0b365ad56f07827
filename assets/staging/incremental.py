"""staging.events and staging.sessions, rebuilt only where something changed.

A full build reads every raw web event; on a normal night only one new day landed. So each build
records what it was made from (schema `build_state`, sql/staging/build_state.sql) and the next night
rebuilds exactly the messages that changed (new or reloaded days, anonymous ids whose identity-map
contact changed, user ids whose merged contact changed), then the sessions of exactly the visitors
whose events changed. Both paths run the same transform (a table macro over an input relation:
sql/staging/events_transform.sql, sessions_transform.sql), so an incremental night gives the rows a
full rebuild would (tests/test_staging_incremental.py asserts it).

A full build happens when there is no build state, a table is missing, or the logic or rules changed
(the fingerprint: transform SQL + rule parameters). Each build runs in one transaction with its state,
so a crash leaves the previous table and state, and the next run redoes the work.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb

from assets.sql_files import run_sql, sql_text
from assets.staging.web_rules import WebRules
from assets.warehouse_tables import table_exists


@dataclass(frozen=True)
class BuildInfo:
    """How a table was built tonight: `full` or `incremental`, and how much was rebuilt."""

    mode: str
    rebuilt: int  # messages (events) or visitors (sessions) rebuilt; every row on a full build


def fingerprint(model: str, rules: WebRules) -> str:
    """The transform SQL and the rule parameters a table was built with."""
    payload = json.dumps({"sql": sql_text(f"staging/{model}_transform"), "rules": rules.sql_params()},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _built_with(con: duckdb.DuckDBPyConnection, model: str) -> str | None:
    row = con.execute("select fingerprint from build_state.builds where model = ?", [model]).fetchone()
    return row[0] if row else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _in_transaction(con: duckdb.DuckDBPyConnection, build) -> BuildInfo:
    con.begin()
    try:
        info = build()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return info


def build_events(con: duckdb.DuckDBPyConnection, rules: WebRules, full: bool = False) -> BuildInfo:
    """staging.events: the affected messages only, or everything (`full`, or nothing to build on)."""
    wanted = fingerprint("events", rules)
    params = rules.sql_params()

    def build() -> BuildInfo:
        run_sql(con, "staging/build_state")
        # changes are found through raw.load_log: raw rows written any other way (hand-built test
        # tables) are always built in full
        tracked = table_exists(con, "raw", "load_log")
        incremental = (not full and tracked and table_exists(con, "staging", "events")
                       and _built_with(con, "events") == wanted)
        if incremental:
            run_sql(con, "staging/events_affected")
            run_sql(con, "staging/events_transform")
            run_sql(con, "staging/events_merge", params)
            info = BuildInfo("incremental", con.execute("select count(*) from events_affected").fetchone()[0])
        else:
            run_sql(con, "staging/events")
            run_sql(con, "staging/events_transform")
            run_sql(con, "staging/events_replace", params)
            # every session may change: the sessions build starts over too
            con.execute("delete from build_state.builds where model = 'sessions'; delete from build_state.sessions_pending")
            info = BuildInfo("full", con.execute("select count(*) from staging.events").fetchone()[0])
        if tracked:
            run_sql(con, "staging/events_record_build", {"fingerprint": wanted, "recorded_at": _now()})
        else:
            con.execute("delete from build_state.builds where model = 'events'")
        con.execute("drop table if exists events_input" if incremental else "drop view if exists events_input")
        return info

    return _in_transaction(con, build)


def build_sessions(con: duckdb.DuckDBPyConnection, rules: WebRules, full: bool = False) -> BuildInfo:
    """staging.sessions: the queued visitors' sessions only, or everything."""
    wanted = fingerprint("sessions", rules)
    params = rules.sql_params()

    def build() -> BuildInfo:
        run_sql(con, "staging/build_state")
        incremental = (not full and table_exists(con, "staging", "sessions")
                       and _built_with(con, "sessions") == wanted and _built_with(con, "events") is not None)
        if incremental:
            run_sql(con, "staging/sessions_merge")
            run_sql(con, "staging/sessions_transform")
            run_sql(con, "staging/sessions_apply", params)
            info = BuildInfo("incremental", con.execute("select count(*) from sessions_visitors").fetchone()[0])
        else:
            run_sql(con, "staging/sessions")
            run_sql(con, "staging/sessions_transform")
            run_sql(con, "staging/sessions_replace", params)
            info = BuildInfo("full", con.execute("select count(*) from staging.sessions").fetchone()[0])
        run_sql(con, "staging/sessions_record_build", {"fingerprint": wanted, "recorded_at": _now()})
        con.execute("drop table if exists sessions_input" if incremental else "drop view if exists sessions_input")
        return info

    return _in_transaction(con, build)
