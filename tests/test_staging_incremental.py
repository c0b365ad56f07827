"""The incremental night gives exactly the staging.events and staging.sessions of a full rebuild.

Real loads (CRM and web day files through the raw loaders) of a generated sample into a real DuckDB
file: night 1 builds in full, night 2 lands one more day plus the awkward cases (a message
re-delivered with an earlier timestamp, an old visitor identifying, a reloaded old day file), builds
incrementally, and is compared row for row with a full rebuild of the same raw tables.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.raw.crm_load import load_crm
from assets.raw.web_events_load import load_web_events
from assets.staging.incremental import build_events, build_identity_map, build_sessions
from assets.staging.models import STAGING_MODELS, build_model, build_staging
from assets.staging.web_rules import load_web_rules
from assets.segments.content_events import refresh_content_events
from assets.segments.interests import load_content_rules
from assets.segments.touches import update_contact_touches
from data_quality.rebuilt_rows import mark_checked
from pipeline_helpers import make_sample

END = dt.date(2026, 11, 20)
COUNTED = list(load_content_rules().counted_events)
CRM_MODELS = STAGING_MODELS[:STAGING_MODELS.index("identity_map")]  # the staging tables before the web ones
LOADED = dt.datetime(2026, 11, 21, 2, 0)


def night(con: duckdb.DuckDBPyConnection, landing: Path, loaded_at: dt.datetime) -> None:
    load_crm(con, landing, loaded_at)
    load_web_events(con, landing, loaded_at=loaded_at)
    build_staging(con, load_web_rules(), END)
    update_contact_touches(con)


def differences(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int]:
    """Rows only in the incremental table, only in the full rebuild (attached as `rebuilt`), and rows."""
    only_here = con.execute(f"select count(*) from (select * from {table} except all select * from rebuilt.{table})").fetchone()[0]  # noqa: S608 - fixed names
    only_full = con.execute(f"select count(*) from (select * from rebuilt.{table} except all select * from {table})").fetchone()[0]  # noqa: S608
    return only_here, only_full, con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608


def unchecked_sessions(con: duckdb.DuckDBPyConnection) -> list[str | None]:
    """The visitor keys queued for the sessions suite (None: the whole table)."""
    return [r[0] for r in con.execute(
        "select key from build_state.unchecked_rows where table_name = 'staging.sessions' order by key nulls first").fetchall()]


def event_line(**fields) -> str:
    body = {"type": "page", "context": {"page": {"url": "https://northwindanalytics.com/pricing", "path": "/pricing"},
                                        "userAgent": "Mozilla/5.0 (Macintosh) Chrome/126.0"}, "properties": {}}
    return json.dumps({**body, **fields})


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    sample = root / "sample"
    make_sample(sample, end_date=END)
    landing = root / "landing"
    shutil.copytree(sample / "crm", landing / "crm")
    days = sorted((sample / "web" / "events").glob("*.jsonl"))
    (landing / "web" / "events").mkdir(parents=True)
    for path in days[:-1]:
        shutil.copy2(path, landing / "web" / "events" / path.name)
    # a visitor who logged in as two CRM contacts (the first decides its identity); night 2 merges the
    # second contact into another record
    contacts_csv = landing / "crm" / "contacts.csv"
    rows = list(csv.DictReader(contacts_csv.open(newline="", encoding="utf-8")))
    first_login, merged_user = [r["contact_id"] for r in rows if "@" in r["email"]][:2]
    with (landing / "web" / "events" / days[1].name).open("a", encoding="utf-8") as day:
        for i, (user_id, at) in enumerate([(first_login, "10:00"), (merged_user, "10:10")]):
            day.write(event_line(messageId=f"inc-login-{i}", anonymousId="inc-two-logins", userId=user_id,
                                 timestamp=f"{days[1].stem}T{at}:00Z") + "\n")
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    night(con, landing, LOADED)
    first_modes = con.execute("select model from build_state.builds order by 1").fetchall()
    assert refresh_content_events(con, COUNTED) == "rebuilt"  # night 1's segments made the copy
    queues = {"night 1": unchecked_sessions(con)}
    mark_checked(con, "staging.sessions")   # night 1's sessions suite passed

    # night 2: the last day lands, with a re-delivered old message (earlier timestamp) and an old
    # anonymous visitor identifying as a known contact
    old = [json.loads(line) for line in days[0].read_text().splitlines() if line.startswith("{")]
    page = next(e for e in old if e.get("type") == "page" and e.get("anonymousId"))
    # (one with content downloads or form fills, so the content events copy has rows to re-point)
    stranger = con.execute(
        "select anonymous_id from staging.events where contact_id is null and anonymous_id is not null "
        "and not is_bot group by 1 order by count(*) filter (where list_contains(?, event)) > 0 desc, count(*) desc, 1 "
        "limit 1", [COUNTED]).fetchone()[0]
    email = con.execute("select email_normalized from staging.contacts where email_valid order by contact_id limit 1").fetchone()[0]
    earlier = (dt.datetime.fromisoformat(page["timestamp"].replace("Z", "")) - dt.timedelta(minutes=5)).isoformat() + "Z"
    extra = [
        json.dumps({**page, "timestamp": earlier}),
        event_line(type="identify", messageId="inc-identify-1", anonymousId=stranger,
                   timestamp=f"{days[-1].stem}T09:00:00Z", traits={"email": email}),
    ]
    # late events of old visitors (the sessions build starts from the session a change can reach):
    # a chain of page views bridging two stored sessions of one visitor into one, and a page view just
    # before another visitor's stored session, which becomes its landing
    timeout = dt.timedelta(minutes=load_web_rules().session_timeout_minutes)
    bridged, first_end, second_start = con.execute(
        "select visitor_key, ended_at, next_start from (select visitor_key, ended_at, "
        "lead(started_at) over (partition by visitor_key order by started_at) as next_start "
        "from staging.sessions where visitor_key like 'a:%') where next_start - ended_at < interval 1 day "
        "order by visitor_key, ended_at limit 1").fetchone()
    at, late = first_end + timeout / 2, []
    while at < second_start:
        late.append(at)
        at += timeout / 2
    extended, extended_start = con.execute(
        "select visitor_key, max(started_at) from staging.sessions where visitor_key like 'a:%' and visitor_key <> ? "
        "group by 1 having count(*) >= 2 order by 1 limit 1", [bridged]).fetchone()
    # its earlier sessions are out of the new event's reach: the rebuild keeps their rows as they are
    kept = con.execute("select rowid, session_id from staging.sessions where visitor_key = ? and started_at < ?",
                       [extended, extended_start]).fetchall()
    # and a page view exactly the timeout after another visitor's first session (it joins it)
    on_the_edge, edge_end = con.execute(
        "select visitor_key, min(ended_at) from staging.sessions where visitor_key like 'a:%' and visitor_key not in (?, ?) "
        "group by 1 having count(*) >= 2 order by 1 limit 1", [bridged, extended]).fetchone()
    late = ([(bridged[2:], t) for t in late] + [(extended[2:], extended_start - dt.timedelta(minutes=5))]
            + [(on_the_edge[2:], edge_end + timeout)])
    extra += [event_line(messageId=f"inc-late-{i}", anonymousId=anonymous_id, timestamp=t.isoformat() + "Z")
              for i, (anonymous_id, t) in enumerate(late)]
    sessions_before = dict(con.execute(
        "select visitor_key, count(*) from staging.sessions where visitor_key in (?, ?) group by 1",
        [bridged, extended]).fetchall())
    new_day = landing / "web" / "events" / days[-1].name
    new_day.write_text(days[-1].read_text() + "\n".join(extra) + "\n")
    # and an old day file is corrected: its last 20 lines were wrong and are gone
    fixed = landing / "web" / "events" / days[3].name
    fixed.write_text("\n".join(days[3].read_text().splitlines()[:-20]) + "\n")
    os.utime(fixed, (LOADED.timestamp() + 86400, LOADED.timestamp() + 86400))
    # and the second login's CRM contact is merged into another record (same email, updated later): its
    # user id now maps to another contact, while the visitor's identity (the first login) stays
    merged_email = next(r["email"] for r in rows if r["contact_id"] == merged_user)
    survivor = next(r for r in rows if r["contact_id"] != merged_user and r["email"] and r["email"] != merged_email)
    survivor.update(email=merged_email, updated_at="2026-11-20 23:00:00")
    with contacts_csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    loaded_at = LOADED + dt.timedelta(days=1)
    load_crm(con, landing, loaded_at)
    load_web_events(con, landing, loaded_at=loaded_at)
    rules = load_web_rules()
    for table in CRM_MODELS:
        build_model(con, table, rules, END)
    identities = build_identity_map(con, rules)
    events, sessions = build_events(con, rules), build_sessions(con, rules)
    queues["night 2"] = unchecked_sessions(con)
    touches = update_contact_touches(con)
    raw_rows = con.execute("select count(*) from raw.web_events").fetchone()[0]
    con.close()

    full = root / "full.duckdb"
    shutil.copy(warehouse, full)
    with duckdb.connect(str(full)) as full_con:
        build_identity_map(full_con, rules, full=True)
        build_events(full_con, rules, full=True)
        build_sessions(full_con, rules, full=True)
        queues["full"] = unchecked_sessions(full_con)
        assert update_contact_touches(full_con).mode == "full"
    con = duckdb.connect(str(warehouse))
    con.execute(f"attach '{full}' as rebuilt (read_only)")  # a tmp path of ours; ATTACH takes no parameters
    late_visitors = {"bridged": (bridged, sessions_before[bridged], second_start),
                     "extended": (extended, sessions_before[extended], extended_start),
                     "merged": (merged_user, survivor["contact_id"]), "kept": kept}
    yield con, first_modes, events, sessions, stranger, page["messageId"], days, identities, raw_rows, queues, touches, late_visitors
    con.close()


def test_night_one_builds_in_full_and_records_its_state(nights):
    _, first_modes, *_ = nights
    assert first_modes == [("contact_touches",), ("events",), ("identity_map",), ("raw_message_days",), ("sessions",)]


def test_night_two_rebuilds_only_what_changed(nights):
    con, _, events, sessions, *_ = nights
    assert events.mode == "incremental" and sessions.mode == "incremental"
    total = con.execute("select count(*) from staging.events").fetchone()[0]
    assert 0 < events.rebuilt < total / 3
    assert 0 < sessions.rebuilt < con.execute("select count(distinct visitor_key) from staging.sessions").fetchone()[0]


def test_sessions_queue_their_rebuilt_visitors_for_the_suite(nights):
    """A full build leaves the whole table to check; an incremental night, after a passed check, the
    visitors whose sessions it rebuilt: exactly them, each once."""
    _, _, _, sessions, *_, queues, _, _ = nights
    assert queues["night 1"] == [None] and queues["full"] == [None]
    rebuilt = queues["night 2"]
    assert None not in rebuilt and len(rebuilt) == len(set(rebuilt)) == sessions.rebuilt > 0


def test_night_two_recomputes_the_touches_of_the_contacts_whose_sessions_changed(nights):
    con, *_, touches, _ = nights
    with_touches = con.execute("select count(*) from build_state.contact_touches").fetchone()[0]
    assert touches.mode == "incremental" and 0 < touches.rebuilt < with_touches / 2
    assert con.execute("select count(*) from build_state.touches_pending").fetchone()[0] == 0


def test_night_two_reads_only_the_changed_days_into_the_identity_evidence(nights):
    con, *_, identities, raw_rows, _, _, _ = nights
    assert identities.mode == "incremental" and 0 < identities.rebuilt < raw_rows / 3
    # and re-ranks only the anonymous ids it touched (tonight's visitors, the merged user id's)
    mapped = con.execute("select count(*) from staging.identity_map").fetchone()[0]
    assert 0 < identities.reranked < mapped / 3


@pytest.mark.parametrize("table", ["staging.events", "staging.sessions", "staging.identity_map",
                                   "build_state.identity_evidence", "build_state.events_built_identities",
                                   "build_state.events_built_user_ids", "build_state.contact_touches",
                                   "build_state.raw_message_days"])
def test_incremental_equals_a_full_rebuild(nights, table):
    con, *_ = nights
    only_incremental, only_full, rows = differences(con, table)
    assert rows > 0 and (only_incremental, only_full) == (0, 0)


CONTENT_COLUMNS = "message_id, contact_id, event, content_topic, content_id, page_path, ts, is_bot"


def test_the_content_events_copy_follows_the_incremental_night(nights):
    """build_state.content_events, made on night 1 and kept in step by night 2's incremental events
    build, holds exactly the counted events' rows of the full rebuild's staging.events, the stranger's
    re-pointed downloads included; the interests' reader then keeps it as it is."""
    con, _, _, _, stranger, *_ = nights
    copy = f"select {CONTENT_COLUMNS} from build_state.content_events"
    expected = f"select {CONTENT_COLUMNS} from rebuilt.staging.events where list_contains(?, event)"
    assert con.execute(f"select count(*) from ({copy} except all {expected})", [COUNTED]).fetchone()[0] == 0
    assert con.execute(f"select count(*) from ({expected} except all {copy})", [COUNTED]).fetchone()[0] == 0
    contact = con.execute("select any_value(contact_id) from staging.events where anonymous_id = ?", [stranger]).fetchone()[0]
    repointed = con.execute(
        "select count(*) from build_state.content_events where contact_id = ? and message_id in "
        "(select message_id from staging.events where anonymous_id = ? and event_date < ?)",
        [contact, stranger, dt.date.fromisoformat(nights[6][-1].stem)]).fetchone()[0]
    assert contact is not None and repointed > 0  # identified last night, downloaded before
    assert refresh_content_events(con, list(reversed(COUNTED))) == "kept"  # same names, any order


def test_the_content_events_copy_is_rebuilt_for_other_names_another_definition_and_after_a_full_events_build(
        nights, tmp_path):
    con, *_ = nights
    with copy_of_night_two(con, tmp_path / "copy.duckdb") as copy:
        assert refresh_content_events(copy, COUNTED[:1]) == "rebuilt"
        assert copy.execute("select list_distinct(list(event)) from build_state.content_events").fetchone()[0] == COUNTED[:1]
        assert refresh_content_events(copy, COUNTED[:1]) == "kept"
        copy.execute("update build_state.content_events_spec set fingerprint = 'an older definition'")
        assert refresh_content_events(copy, COUNTED[:1]) == "rebuilt"
        # a spec table from before the fingerprint column: the column is added, the copy made again
        copy.execute("drop table build_state.content_events_spec; create table build_state.content_events_spec "
                     "(events varchar[]); insert into build_state.content_events_spec values (?)", [sorted(COUNTED[:1])])
        assert refresh_content_events(copy, COUNTED[:1]) == "rebuilt"
        assert refresh_content_events(copy, COUNTED[:1]) == "kept"
        build_events(copy, load_web_rules(), full=True)
        assert copy.execute("select count(*) from build_state.content_events_spec").fetchone()[0] == 0
        assert refresh_content_events(copy, COUNTED[:1]) == "rebuilt"


def test_the_awkward_cases_happened(nights):
    """The equality above covers them only if they are really in the data."""
    con, _, _, _, stranger, redelivered, days, *_ = nights
    survivor = con.execute("select event_date from staging.events where message_id = ?", [redelivered]).fetchone()[0]
    assert survivor == dt.date.fromisoformat(days[-1].stem)  # the earlier copy, landed last night, won
    assert con.execute("select count(distinct contact_id), count(*) from staging.events where anonymous_id = ?",
                       [stranger]).fetchone()[0] == 1
    assert con.execute("select count(*) from staging.sessions where anonymous_id = ? and contact_id is null",
                       [stranger]).fetchone()[0] == 0
    late = nights[-1]
    bridged, sessions_before, second_start = late["bridged"]
    assert con.execute("select count(*) from staging.sessions where visitor_key = ?", [bridged]).fetchone()[0] == sessions_before - 1
    assert con.execute("select count(*) from staging.sessions where visitor_key = ? and started_at = ?",
                       [bridged, second_start]).fetchone()[0] == 0  # the second session is part of the first now
    merged_user, survivor = late["merged"]
    assert con.execute("select distinct contact_id from staging.events where user_id = ?", [merged_user]).fetchall() == [(survivor,)]
    kept = dict(late["kept"])
    assert kept and dict(con.execute("select rowid, session_id from staging.sessions where rowid in ?",
                                     [list(kept)]).fetchall()) == kept
    extended, sessions_before, started = late["extended"]
    assert con.execute("select count(*) from staging.sessions where visitor_key = ?", [extended]).fetchone()[0] == sessions_before
    assert con.execute("select min(started_at) from staging.sessions where visitor_key = ? and ended_at >= ?",
                       [extended, started]).fetchone()[0] == started - dt.timedelta(minutes=5)


@pytest.mark.parametrize("loss", [None, "dropped", "another definition", "emptied", "days unrecorded"])
def test_lost_or_stale_raw_message_days_are_made_again_from_every_raw_row(nights, tmp_path, loss):
    """The events build finds re-delivered messages' older raw copies through build_state.raw_message_days,
    kept in step by the days it records (none recorded: every day is replaced); missing, made by
    another definition (or DuckDB version) or short of rows, it is made again from all raw rows before
    the lookup, and the build stays incremental. Unseen, the older copies would leave the stored row
    beside tonight's copy."""
    con, *_ = nights
    with copy_of_night_two(con, tmp_path / "days.duckdb") as copy:
        made = "select recorded_at from build_state.builds where model = 'raw_message_days'"
        before = copy.execute(made).fetchone()[0]
        copy.execute({None: "select 1", "dropped": "drop table build_state.raw_message_days",
                      "another definition": "update build_state.builds set fingerprint = 'older' where model = 'raw_message_days'",
                      "emptied": "delete from build_state.raw_message_days",
                      "days unrecorded": "delete from build_state.built_days where model = 'raw_message_days'"}[loss])
        # tonight re-delivers the re-delivered page again, earlier still: its copies sit on two old days
        redelivered, days = nights[5], nights[6]
        landing = _landing_copy(days, tmp_path)
        page = next(json.loads(line) for p in days for line in (landing / "web" / "events" / p.name).read_text().splitlines()
                    if line.startswith("{") and json.loads(line).get("messageId") == redelivered)
        earliest = (dt.datetime.fromisoformat(page["timestamp"].replace("Z", "")) - dt.timedelta(minutes=30)).isoformat() + "Z"
        new_date = dt.date.fromisoformat(days[-1].stem) + dt.timedelta(days=1)
        (landing / "web" / "events" / f"{new_date}.jsonl").write_text(json.dumps({**page, "timestamp": earliest}) + "\n")
        assert _rebuild_nightly(copy, landing, LOADED + dt.timedelta(days=3)).mode == "incremental"
        copies = copy.execute("select count(*) from raw.web_events where message_id = ?", [redelivered]).fetchone()[0]
        stored = copy.execute("select count(*), min(event_date) from staging.events where message_id = ?", [redelivered]).fetchone()
        assert copies == 3 and stored == (1, new_date)  # one row: tonight's, the earliest copy
        table = "select event_date, message_hash from build_state.raw_message_days"
        raw = "select event_date, message_hash(message_id) from raw.web_events"
        assert copy.execute(f"select count(*) from ({table} except all {raw})").fetchone()[0] == 0
        assert copy.execute(f"select count(*) from ({raw} except all {table})").fetchone()[0] == 0
        # made again only when it had to be; otherwise the changed days were replaced in it (with no day
        # recorded: every day), and it records the days it now mirrors
        assert (copy.execute(made).fetchone()[0] == before) == (loss in (None, "days unrecorded"))
        recorded = "select event_date, loaded_at from build_state.built_days where model = 'raw_message_days'"
        logged = "select event_date, loaded_at from raw.load_log where source = 'web_events'"
        assert copy.execute(f"select count(*) from (({recorded}) except ({logged}))").fetchone()[0] == 0
        assert copy.execute(f"select count(*) from (({logged}) except ({recorded}))").fetchone()[0] == 0


def test_changed_rules_mean_a_full_build(nights, tmp_path):
    import dataclasses

    con, *_ = nights
    path = tmp_path / "copy.duckdb"
    con.execute("checkpoint")
    rules = dataclasses.replace(load_web_rules(), session_timeout_minutes=45)
    shutil.copy(con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0], path)
    with duckdb.connect(str(path)) as copy:
        assert build_events(copy, load_web_rules()).mode == "incremental"
        assert build_sessions(copy, rules).mode == "full"
        assert build_sessions(copy, rules).mode == "incremental"


def copy_of_night_two(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a copy of the night-2 warehouse at `path`, with the full rebuild attached."""
    con.execute("checkpoint")
    shutil.copy(con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0], path)
    copy = duckdb.connect(str(path))
    rebuilt = con.execute("select path from duckdb_databases() where database_name = 'rebuilt'").fetchone()[0]
    copy.execute(f"attach '{rebuilt}' as rebuilt (read_only)")  # a tmp path of ours; ATTACH takes no parameters
    return copy


def test_a_sessions_queue_from_before_from_ts_rebuilds_all_of_its_visitors_sessions(nights, tmp_path):
    """A warehouse whose build_state.sessions_pending has no from_ts column yet (queued by an older
    version): the column is added, and its visitors (NULL from_ts) get every session rebuilt."""
    con, *_, late = nights
    visitors = [late["bridged"][0], late["extended"][0]]
    with copy_of_night_two(con, tmp_path / "old_queue.duckdb") as copy:
        copy.execute("drop table build_state.sessions_pending")
        copy.execute("create table build_state.sessions_pending (visitor_key varchar)")
        copy.execute("insert into build_state.sessions_pending values (?), (?)", visitors)
        # their stored sessions are wrong now: only a full rebuild of them puts them right
        copy.execute("update staging.sessions set pageviews = -1 where visitor_key in (?, ?)", visitors)
        assert build_sessions(copy, load_web_rules()).mode == "incremental"
        assert differences(copy, "staging.sessions")[:2] == (0, 0)
        assert copy.execute("select count(*) from staging.sessions where visitor_key in (?, ?)", visitors).fetchone()[0] > 2


def test_an_events_build_queues_leftover_repointed_visitors_whole(nights, tmp_path):
    """Re-pointed visitors' events left in build_state.sessions_repointed by an events build whose
    sessions were not built since may be out of date: the next events build queues those visitors'
    sessions whole (NULL from_ts) instead, and the sessions build puts them right."""
    con, *_, late = nights
    visitor = late["extended"][0]
    rules = load_web_rules()
    with copy_of_night_two(con, tmp_path / "leftover.duckdb") as copy:
        copy.execute("insert into build_state.sessions_repointed values (?, timestamp '2000-01-01', 'stale', false, 'nobody')",
                     [visitor])
        copy.execute("update staging.sessions set pageviews = -1 where visitor_key = ?", [visitor])
        assert build_events(copy, rules).mode == "incremental"
        assert copy.execute("select count(*) from build_state.sessions_repointed").fetchone()[0] == 0
        assert copy.execute("select visitor_key, from_ts from build_state.sessions_pending").fetchall() == [(visitor, None)]
        assert build_sessions(copy, rules).mode == "incremental"
        assert differences(copy, "staging.sessions")[:2] == (0, 0)


def test_a_changed_user_id_is_found_on_days_the_identity_evidence_has_not_read(nights, tmp_path):
    """staging.events built after a load without the identity map (the evidence lags by those days):
    the anonymous visitors a changed user id was seen with on those days are found in staging.events,
    and their events re-pointed."""
    con, *_, days, _, _, _, _, late = nights
    merged_user, _ = late["merged"]
    with copy_of_night_two(con, tmp_path / "lagging.duckdb") as copy:
        copy.execute("delete from build_state.identity_evidence where anonymous_id = 'inc-two-logins'")
        copy.execute("delete from build_state.built_days where model = 'identity_map' and event_date = ?",
                     [dt.date.fromisoformat(days[1].stem)])
        copy.execute("update staging.contact_id_map set contact_id = 'moved-elsewhere' where source_contact_id = ?",
                     [merged_user])
        assert build_events(copy, load_web_rules()).mode == "incremental"
        assert copy.execute("select distinct contact_id from staging.events where user_id = ?",
                            [merged_user]).fetchall() == [("moved-elsewhere",)]
        assert copy.execute("select count(*) from build_state.sessions_repointed where visitor_key = 'a:inc-two-logins'"
                            ).fetchone()[0] == 2


def _map_against_a_full_ranking(copy: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(rows only in staging.identity_map as built, rows only in a full re-ranking of the same evidence)."""
    copy.execute("create table incremental_map as select * from staging.identity_map")
    assert build_identity_map(copy, load_web_rules(), full=True).mode == "full"
    return copy.execute(
        "select (select count(*) from (from incremental_map except all from staging.identity_map)), "
        "(select count(*) from (from staging.identity_map except all from incremental_map))").fetchone()


def test_the_identity_map_re_ranks_the_visitors_whose_evidence_keys_changed_hands(nights, tmp_path):
    """No new day, but the CRM moved an email from one contact to another, made another email invalid
    and merged a user id into someone else: exactly the anonymous ids with that evidence are re-ranked,
    and the map equals a full ranking."""
    con, *_ = nights
    with copy_of_night_two(con, tmp_path / "keys.duckdb") as copy:
        (moved, moved_from), (invalid, _) = copy.execute(
            "select e.evidence_key, c.contact_id from build_state.identity_evidence e "
            "join staging.contacts c on c.email_normalized = e.evidence_key and c.email_valid "
            "where e.method in ('identify', 'form') group by all order by 1 limit 2").fetchall()
        user_id = copy.execute("select evidence_key from build_state.identity_evidence e "
                               "join staging.contact_id_map m on m.source_contact_id = e.evidence_key "
                               "where e.method = 'user_id' order by 1 limit 1").fetchone()[0]
        moved_to = copy.execute("select contact_id from staging.contacts where contact_id <> ? and email_valid "
                                "order by contact_id limit 1", [moved_from]).fetchone()[0]
        copy.execute("update staging.contacts set email_normalized = null, email_valid = false where email_normalized = ?", [moved])
        copy.execute("update staging.contacts set email_normalized = ? where contact_id = ?", [moved, moved_to])
        copy.execute("update staging.contacts set email_valid = false where email_normalized = ?", [invalid])
        copy.execute("update staging.contact_id_map set contact_id = 'merged-elsewhere' where source_contact_id = ?", [user_id])
        affected = copy.execute(
            "select count(distinct anonymous_id) from build_state.identity_evidence where evidence_key in (?, ?, ?)",
            [moved, invalid, user_id]).fetchone()[0]
        info = build_identity_map(copy, load_web_rules())
        assert info.mode == "incremental" and affected <= info.reranked < affected + 10
        assert copy.execute("select count(*) from staging.identity_map where contact_id = 'merged-elsewhere'").fetchone()[0] > 0
        assert copy.execute("select count(*) from staging.identity_map m join build_state.identity_evidence e "
                            "using (anonymous_id) where e.evidence_key = ? and m.contact_id = ?",
                            [moved, moved_to]).fetchone()[0] > 0
        assert _map_against_a_full_ranking(copy) == (0, 0)


@pytest.mark.parametrize("lost", ["staging.identity_map", "build_state.identity_ranked_emails",
                                  "build_state.identity_ranked_user_ids"])
def test_a_lost_identity_map_or_key_record_means_a_full_ranking(nights, tmp_path, lost):
    """Without the map or a record of the keys it was ranked with, the map is ranked in full: a key
    that vanished since (an email no longer valid, a user id no longer mapped) is in neither the
    current keys nor an empty record, so a partial re-ranking would keep its stale rows."""
    con, *_ = nights
    with copy_of_night_two(con, tmp_path / "lost.duckdb") as copy:
        email, user_id = copy.execute(
            "select (select min(evidence_key) from build_state.identity_evidence e join staging.contacts c "
            "on c.email_normalized = e.evidence_key and c.email_valid where e.method <> 'user_id'), "
            "(select min(evidence_key) from build_state.identity_evidence e join staging.contact_id_map m "
            "on m.source_contact_id = e.evidence_key where e.method = 'user_id')").fetchone()
        copy.execute(f"drop table {lost}")  # noqa: S608 - a fixed name
        copy.execute("update staging.contacts set email_valid = false where email_normalized = ?", [email])
        copy.execute("delete from staging.contact_id_map where source_contact_id = ?", [user_id])
        info = build_identity_map(copy, load_web_rules())
        mapped = copy.execute("select count(*) from staging.identity_map").fetchone()[0]
        assert info.mode == "incremental" and info.reranked == mapped > 0  # the evidence: tonight's only
        assert _map_against_a_full_ranking(copy) == (0, 0)


def _copy_diff(con, names=None):
    """(rows only in build_state.content_events, rows only in staging.events' rows of `names`)."""
    names = COUNTED if names is None else names
    a = f"select {CONTENT_COLUMNS} from build_state.content_events"
    b = f"select {CONTENT_COLUMNS} from staging.events where list_contains(?, event)"
    only_copy = con.execute(f"select count(*) from ({a} except all {b})", [names]).fetchone()[0]
    only_events = con.execute(f"select count(*) from ({b} except all {a})", [names]).fetchone()[0]
    return only_copy, only_events


def _landing_copy(days, tmp_path):
    """A copy of the fixture's landing folder (night 2's files)."""
    root = days[0].parents[3]
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing, copy_function=shutil.copy2)
    return landing


def _rebuild_nightly(con, landing, loaded_at, identity=True):
    """Load `landing` and build staging up to the events (without the identity map: `identity=False`)."""
    rules = load_web_rules()
    load_crm(con, landing, loaded_at)
    load_web_events(con, landing, loaded_at=loaded_at)
    for table in CRM_MODELS:
        build_model(con, table, rules, END)
    if identity:
        build_identity_map(con, rules)
    return build_events(con, rules)


def test_the_content_events_copy_stays_in_step_through_reloads_redeliveries_and_identities(nights, tmp_path):
    """After every kind of incremental events build the copy equals the counted events' rows of
    staging.events (a review's scenarios): a reloaded day that renames, retopics, adds and removes
    content events; re-delivered content events (the new copy wins, or the old one stays); a visitor
    with content events identifying, then not any more (two builds without a reader between them);
    events built before the identity map; an incremental build while a full build left no spec."""
    con, *_ = nights
    days = nights[6]
    with copy_of_night_two(con, tmp_path / "s.duckdb") as copy:
        assert refresh_content_events(copy, COUNTED) == "kept"
        assert _copy_diff(copy) == (0, 0)
        landing = _landing_copy(days, tmp_path)
        events_dir = landing / "web" / "events"
        # 1. an old day reloaded: a content event renamed away, a page view renamed into a content event,
        #    a content event removed, a content event's topic changed
        counts = {p.name: sum(1 for l in (events_dir / p.name).read_text().splitlines() if any(n in l for n in COUNTED))
                  for p in days[4:-1]}
        old_name = max(counts, key=counts.get)
        old_day = events_dir / old_name
        lines = old_day.read_text().splitlines()
        docs = [json.loads(l) if l.startswith("{") else None for l in lines]
        content_idx = [i for i, d in enumerate(docs) if d and d.get("event") in COUNTED]
        page_idx = [i for i, d in enumerate(docs) if d and d.get("type") == "page"]
        assert len(content_idx) >= 3, content_idx
        d = docs[content_idx[0]]; d["event"] = "Something Else"; lines[content_idx[0]] = json.dumps(d)
        d = docs[content_idx[1]]; d.setdefault("properties", {})["topic"] = "changed_topic"; lines[content_idx[1]] = json.dumps(d)
        d = docs[page_idx[0]]; d["type"] = "track"; d["event"] = COUNTED[0]; lines[page_idx[0]] = json.dumps(d)
        removed = docs[content_idx[2]]
        del lines[content_idx[2]]
        old_day.write_text("\n".join(lines) + "\n")
        # 2. re-delivered old content events on a new day: one earlier (the new copy wins), one later
        #    (the old day's copy stays)
        first_day = [json.loads(l) for p in days[:3] for l in (events_dir / p.name).read_text().splitlines() if l.startswith("{")]
        olds = [e for e in first_day if e.get("event") in COUNTED][:2]
        assert len(olds) == 2
        def shifted(e, minutes):
            t = dt.datetime.fromisoformat(e["timestamp"].replace("Z", "")) + dt.timedelta(minutes=minutes)
            return json.dumps({**e, "timestamp": t.isoformat() + "Z", "properties": {**(e.get("properties") or {}), "topic": "redelivered"}})
        # 3. an anonymous visitor with content events and no contact identifies
        stranger = copy.execute(
            "select anonymous_id from staging.events where contact_id is null and anonymous_id is not null and "
            "list_contains(?, event) and anonymous_id <> 'inc-two-logins' group by 1 order by count(*) desc, 1 limit 1",
            [COUNTED]).fetchone()[0]
        email = copy.execute("select email_normalized from staging.contacts where email_valid order by contact_id desc limit 1").fetchone()[0]
        new_date = dt.date.fromisoformat(days[-1].stem) + dt.timedelta(days=1)
        new_day = events_dir / f"{new_date}.jsonl"
        new_day.write_text("\n".join([
            shifted(olds[0], -5), shifted(olds[1], +5),
            event_line(type="identify", messageId="rv-identify", anonymousId=stranger,
                       timestamp=f"{new_date}T09:00:00Z", traits={"email": email}),
            event_line(type="track", event=COUNTED[-1], messageId="rv-new-content", anonymousId=stranger,
                       timestamp=f"{new_date}T09:01:00Z", properties={"topic": "t", "content_id": "c"}),
        ]) + "\n")
        loaded = LOADED + dt.timedelta(days=3)
        os.utime(old_day, (loaded.timestamp(), loaded.timestamp()))
        info = _rebuild_nightly(copy, landing, loaded)
        assert info.mode == "incremental"
        assert copy.execute("select count(*) from staging.events where message_id = ?", [removed["messageId"]]).fetchone()[0] == 0
        assert _copy_diff(copy) == (0, 0), "after reload + redelivery + identify"
        topics = dict(copy.execute("select message_id, content_topic from build_state.content_events where message_id in (?, ?)",
                                   [olds[0]["messageId"], olds[1]["messageId"]]).fetchall())
        assert topics[olds[0]["messageId"]] == "redelivered" and topics[olds[1]["messageId"]] != "redelivered", topics
        assert copy.execute("select count(*) from build_state.content_events where message_id = ?", [docs[page_idx[0]]["messageId"]]).fetchone()[0] == 1
        assert copy.execute("select count(*) from build_state.content_events where message_id = ?", [docs[content_idx[0]]["messageId"]]).fetchone()[0] == 0
        assert copy.execute("select count(*) from build_state.content_events where content_topic = 'changed_topic'").fetchone()[0] == 1
        assert copy.execute("select count(*) from build_state.content_events where contact_id is not null and message_id in "
                            "(select message_id from staging.events where anonymous_id = ?)", [stranger]).fetchone()[0] > 0
        # 4. a second incremental build without a reader: identity removed again (the identify deleted)
        new_day.write_text("\n".join(new_day.read_text().splitlines()[:2] + new_day.read_text().splitlines()[3:]) + "\n")
        later = loaded + dt.timedelta(days=1)
        os.utime(new_day, (later.timestamp(), later.timestamp()))
        assert _rebuild_nightly(copy, landing, later).mode == "incremental"
        assert _copy_diff(copy) == (0, 0), "after the identify went away"
        # 5. a build of events without the identity map first (evidence lags), then with it
        even_later = later + dt.timedelta(days=1)
        (events_dir / f"{new_date + dt.timedelta(days=1)}.jsonl").write_text(event_line(
            type="track", event=COUNTED[0], messageId="rv-late", anonymousId=stranger, userId="nobody",
            timestamp=f"{new_date + dt.timedelta(days=1)}T01:00:00Z", properties={"topic": "x"}) + "\n")
        assert _rebuild_nightly(copy, landing, even_later, identity=False).mode == "incremental"
        assert _copy_diff(copy) == (0, 0), "events without identity map"
        assert build_identity_map(copy, load_web_rules()).mode == "incremental"
        assert build_events(copy, load_web_rules()).mode == "incremental"
        assert _copy_diff(copy) == (0, 0), "identity map caught up"
        # 6. full build empties; incremental while spec empty; the reader rebuilds; other names
        build_events(copy, load_web_rules(), full=True)
        (events_dir / f"{new_date + dt.timedelta(days=2)}.jsonl").write_text(event_line(
            type="track", event=COUNTED[0], messageId="rv-later", anonymousId=stranger,
            timestamp=f"{new_date + dt.timedelta(days=2)}T01:00:00Z", properties={"topic": "x"}) + "\n")
        assert _rebuild_nightly(copy, landing, even_later + dt.timedelta(days=1)).mode == "incremental"
        assert copy.execute("select count(*) from build_state.content_events").fetchone()[0] == 0
        assert refresh_content_events(copy, COUNTED) == "rebuilt"
        assert _copy_diff(copy) == (0, 0)
        assert refresh_content_events(copy, ["page_view_never", COUNTED[0]]) == "rebuilt"
        assert _copy_diff(copy, ["page_view_never", COUNTED[0]]) == (0, 0)
        assert refresh_content_events(copy, []) == "rebuilt"
        assert refresh_content_events(copy, []) == "kept"
