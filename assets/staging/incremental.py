"""staging.identity_map, staging.events and staging.sessions, rebuilt only where something changed.

A full build reads every raw web event; on a normal night only one new day landed. So each build
records what it was made from (schema `build_state`, sql/staging/build_state.sql) and the next night
reads only the raw rows that changed into the identity evidence (per anonymous id and evidence key
its earliest event), re-ranks the identity map of only the anonymous ids whose evidence, or whose
evidence keys' contacts, changed, rebuilds exactly the messages that changed (new or
reloaded days, anonymous ids whose identity-map contact changed, user ids whose merged contact
changed), then the sessions of exactly the visitors whose events changed, from the session their
earliest change reaches on (sql/staging/sessions_merge.sql); a visitor whose contact alone changed
keeps its sessions and gets their contact recomputed. Both paths run the same
transform (a table macro over an input relation: sql/staging/identity_map_transform.sql,
events_transform.sql, sessions_transform.sql), so an incremental night gives the rows a full rebuild
would (tests/test_staging_incremental.py asserts it).

A full build happens when there is no build state, a table is missing, or the logic or rules changed
(the fingerprint: transform SQL + rule parameters; the identity map's includes its ranking). Each
build runs in one transaction with its state, so a crash leaves the previous table and state, and the
next run redoes the work.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Callable, TypeVar

import duckdb

from assets.sql_files import run_sql, sql_text
from assets.staging.web_rules import WebRules
from assets.warehouse_tables import table_exists

T = TypeVar("T")


@dataclass(frozen=True)
class BuildInfo:
    """How a table was built tonight: `full` or `incremental`, and how much was rebuilt."""

    mode: str
    rebuilt: int  # raw rows read (identity_map), messages rebuilt (events), visitors whose sessions changed (sessions)
    reranked: int | None = None  # identity_map: anonymous ids re-ranked (a full build: the rows of the new map)


# The SQL a model's stored rows come from: the identity map keeps ranked rows between nights too; the
# macros the transforms call (besides visitor_key, in every fingerprint).
TRANSFORMS = {
    "identity_map": ("staging/identity_map_transform", "staging/identity_ranking_keys",
                     "staging/identity_ranking_transform"),
    "events": ("staging/events_transform", "shared/trim_fast"),
}


def fingerprint(model: str, rules: WebRules) -> str:
    """The transform SQL (with the macros it calls) and the rule parameters a table was built with."""
    sql = [sql_text(name) for name in TRANSFORMS.get(model, (f"staging/{model}_transform",))]
    # one file stays a string, as before: the sessions fingerprint did not change when lists came in
    payload = json.dumps({"sql": sql[0] if len(sql) == 1 else sql, "visitor_key": sql_text("staging/visitor_key"),
                          "rules": rules.sql_params()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def built_with(con: duckdb.DuckDBPyConnection, model: str) -> str | None:
    """The fingerprint `model` was last built with (build_state.builds), None if never."""
    row = con.execute("select fingerprint from build_state.builds where model = ?", [model]).fetchone()
    return row[0] if row else None


def utc_now() -> dt.datetime:
    """Now in UTC, without zone (as build_state stores it)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def in_transaction(con: duckdb.DuckDBPyConnection, build: Callable[[], T]) -> T:
    """`build()` in one transaction: its table and its build state change together, or not at all."""
    con.begin()
    try:
        info = build()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return info


@dataclass(frozen=True)
class _Steps:
    """One way of building a model: the SQL file that makes the transform's input, the one that writes
    the table from the transform, the relation whose rows count what was rebuilt, and the input's drop."""

    make_input: str
    write: str
    counted: str
    drop_input: str


STEPS = {
    ("identity_map", "incremental"): _Steps("staging/identity_evidence_affected", "staging/identity_evidence_merge",
                                            "identity_input",
                                            "drop table if exists identity_input; drop table if exists identity_changed_days; "
                                            "drop table if exists identity_stale_anonymous_ids; "
                                            "drop table if exists identity_tonight; drop table if exists identity_replaced"),
    ("identity_map", "full"): _Steps("staging/identity_evidence_full", "staging/identity_evidence_replace",
                                     "identity_input", "drop view if exists identity_input"),
    ("identity_ranking", "incremental"): _Steps("staging/identity_ranking_affected", "staging/identity_ranking_merge",
                                                "identity_ranking_affected",
                                                "drop table if exists identity_ranking_input; "
                                                "drop table if exists identity_evidence_changed; "
                                                "drop table if exists identity_ranking_changed_user_ids; "
                                                "drop table if exists identity_ranking_changed_emails; "
                                                "drop table if exists identity_ranking_affected; "
                                                "drop table if exists identity_ranking_ranked; "
                                                "drop table if exists identity_ranking_changed"),
    ("identity_ranking", "full"): _Steps("staging/identity_ranking_all", "staging/identity_ranking_replace",
                                         "staging.identity_map",
                                         "drop view if exists identity_ranking_input; "
                                         "drop table if exists identity_evidence_changed"),
    ("events", "incremental"): _Steps("staging/events_affected", "staging/events_merge", "events_affected",
                                      "drop table if exists events_input; drop table if exists events_raw_days; drop table if exists events_raw_rows; "
                                      "drop table if exists events_stale; drop table if exists events_stale_days; "
                                      "drop table if exists events_repointed; drop table if exists events_repointed_anonymous_ids; "
                                      "drop table if exists events_rebuilt"),
    ("events", "full"): _Steps("staging/events", "staging/events_replace", "staging.events",
                               "drop view if exists events_input"),
    ("sessions", "incremental"): _Steps("staging/sessions_merge", "staging/sessions_apply", "sessions_changed_visitors",
                                        "drop table if exists sessions_input; drop table if exists sessions_stored; "
                                        "drop table if exists sessions_regions; drop table if exists sessions_replaced; "
                                        "drop table if exists sessions_read_from; drop table if exists sessions_recontacted"),
    ("sessions", "full"): _Steps("staging/sessions", "staging/sessions_replace", "staging.sessions",
                                 "drop view if exists sessions_input"),
}


def _run(con: duckdb.DuckDBPyConnection, model: str, mode: str, rules: WebRules) -> BuildInfo:
    steps = STEPS[(model, mode)]
    run_sql(con, "staging/visitor_key")
    run_sql(con, "shared/trim_fast")
    if mode == "incremental":
        run_sql(con, "staging/changed_web_days")
    run_sql(con, steps.make_input, rules.sql_params())
    run_sql(con, f"staging/{model}_transform")  # the macro binds to the input just made
    run_sql(con, steps.write, rules.sql_params())
    info = BuildInfo(mode, con.table(steps.counted).aggregate("count(*)").fetchone()[0])
    con.execute(steps.drop_input)
    return info


def _tracked(con: duckdb.DuckDBPyConnection) -> bool:
    """Changes are found through raw.load_log: raw rows written any other way (hand-built test
    tables) are always built in full."""
    return table_exists(con, "raw", "load_log")


def _built_on(con: duckdb.DuckDBPyConnection, model: str, wanted: str, kept: tuple[str, str]) -> bool:
    """True when the `kept` table (schema, name) tonight's build starts from exists and `model` was
    last built with the same logic and rules."""
    return table_exists(con, *kept) and built_with(con, model) == wanted


def _record(con: duckdb.DuckDBPyConnection, model: str, wanted: str, tracked: bool) -> None:
    """What tonight's build of `model` was made from (sql/staging/<model>_record_build.sql), or, with
    untracked raw rows, no record: the next night builds in full."""
    if tracked:
        run_sql(con, f"staging/{model}_record_build", {"fingerprint": wanted, "recorded_at": utc_now()})
    else:
        con.execute("delete from build_state.builds where model = ?", [model])


# What the identity map's last ranking matched evidence keys with (sql/staging/identity_ranking_affected.sql).
RANKING_RECORDS = ("identity_ranked_user_ids", "identity_ranked_emails")


def build_identity_map(con: duckdb.DuckDBPyConnection, rules: WebRules, full: bool = False) -> BuildInfo:
    """staging.identity_map, ranked from the identity evidence: tonight's raw rows merged into the
    stored evidence and the affected anonymous ids re-ranked, or all of it rebuilt (`full`, or nothing
    to build on). `rebuilt` counts the raw rows read, `reranked` the anonymous ids ranked."""
    wanted = fingerprint("identity_map", rules)

    def build() -> BuildInfo:
        # The map can be re-ranked in part only next to the records of the keys it was ranked with
        # (build_state.sql would make a lost one anew, empty: a key gone since would go unnoticed).
        ranked_on = [table_exists(con, "staging", "identity_map")] + [
            table_exists(con, "build_state", record) for record in RANKING_RECORDS]
        run_sql(con, "staging/build_state")
        tracked = _tracked(con)
        incremental = (not full and tracked
                       and _built_on(con, "identity_map", wanted, ("build_state", "identity_evidence")))
        info = _run(con, "identity_map", "incremental" if incremental else "full", rules)
        rerank = "incremental" if incremental and all(ranked_on) else "full"
        run_sql(con, "staging/identity_ranking_keys")  # what the ranking matches with, and records
        ranking = _run(con, "identity_ranking", rerank, rules)
        con.execute("drop view identity_user_id_keys; drop view identity_email_keys")
        _record(con, "identity_map", wanted, tracked)
        return BuildInfo(info.mode, info.rebuilt, reranked=ranking.rebuilt)

    return in_transaction(con, build)


# The raw message days' hash and two builds (sql/staging/message_hash.sql, raw_message_days_all.sql,
# raw_message_days_update.sql): its fingerprint.
RAW_MESSAGE_DAYS = ("staging/message_hash", "staging/raw_message_days_all", "staging/raw_message_days_update")


def _raw_message_days(con: duckdb.DuckDBPyConnection, refresh: bool) -> None:
    """Bring build_state.raw_message_days in step with raw.web_events: the days changed since it last
    recorded them, or all of it when `refresh` (a full events build), when it is missing or was made by
    another definition or DuckDB version (its stored hashes would not match tonight's), or when it does
    not hold one row per raw row after the update (rows lost: a re-delivery would go unseen). Leaves
    the message_hash macro defined for the lookup (sql/staging/events_affected.sql)."""
    hashed, make, update = RAW_MESSAGE_DAYS
    made_by = hashlib.sha256(json.dumps([*map(sql_text, RAW_MESSAGE_DAYS), duckdb.__version__]).encode()).hexdigest()[:16]
    run_sql(con, hashed)
    tracked = _tracked(con)
    if not refresh and tracked and _built_on(con, "raw_message_days", made_by, ("build_state", "raw_message_days")):
        run_sql(con, update)
        kept, raw = con.execute("select (select count(*) from build_state.raw_message_days), "
                                "(select count(*) from raw.web_events)").fetchone()
        if kept != raw:
            run_sql(con, make, {"fingerprint": made_by, "recorded_at": utc_now()})
    else:
        run_sql(con, make, {"fingerprint": made_by, "recorded_at": utc_now()})
    if tracked:
        run_sql(con, "staging/raw_message_days_record")
    else:  # no load log to record days from: with none recorded, the next update replaces every day
        con.execute("delete from build_state.built_days where model = 'raw_message_days'")


def build_events(con: duckdb.DuckDBPyConnection, rules: WebRules, full: bool = False) -> BuildInfo:
    """staging.events: the affected messages only, or everything (`full`, or nothing to build on)."""
    wanted = fingerprint("events", rules)

    def build() -> BuildInfo:
        run_sql(con, "staging/build_state")
        tracked = _tracked(con)
        incremental = not full and tracked and _built_on(con, "events", wanted, ("staging", "events"))
        if incremental:  # first: the raw copies of tonight's messages are looked up in it
            run_sql(con, "staging/changed_web_days")
            _raw_message_days(con, refresh=False)
        info = _run(con, "events", "incremental" if incremental else "full", rules)
        if not incremental:
            _raw_message_days(con, refresh=True)
        run_sql(con, "staging/events_identities_changed" if incremental else "staging/events_identities_all")
        if not incremental:  # every session may change: the sessions build starts over too, and the
            # content events copy is made again from the new table by its next reader
            con.execute("delete from build_state.builds where model = 'sessions'; delete from build_state.sessions_pending; "
                        "delete from build_state.sessions_repointed; delete from build_state.content_events_spec; "
                        "delete from build_state.content_events")
        _record(con, "events", wanted, tracked)
        return info

    return in_transaction(con, build)


def build_sessions(con: duckdb.DuckDBPyConnection, rules: WebRules, full: bool = False) -> BuildInfo:
    """staging.sessions: the queued visitors' sessions only, or everything."""
    wanted = fingerprint("sessions", rules)

    def build() -> BuildInfo:
        run_sql(con, "staging/build_state")
        incremental = (not full and table_exists(con, "staging", "sessions")
                       and built_with(con, "sessions") == wanted and built_with(con, "events") is not None)
        info = _run(con, "sessions", "incremental" if incremental else "full", rules)
        run_sql(con, "staging/sessions_record_build", {"fingerprint": wanted, "recorded_at": utc_now()})
        return info

    return in_transaction(con, build)
