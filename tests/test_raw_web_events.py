"""Web event day files -> raw.web_events: quarantine, idempotent day reloads, incremental loads."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest

from assets.raw.landing import LandingFileError, create_raw_tables
from assets.raw.web_events_load import batches, load_batches, load_web_events

LOADED_AT = dt.datetime(2026, 3, 2, 1, 0)
DAY1, DAY2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def event(message_id: str, ts: str = "2026-03-01T10:00:00.123Z", **extra) -> bytes:
    body = {"type": "page", "messageId": message_id, "anonymousId": "anon-1", "userId": None, "timestamp": ts,
            "context": {"page": {"url": "https://ex.com/pricing?utm_source=li", "path": "/pricing",
                                 "referrer": "https://www.google.com/", "title": "Pricing"},
                        "campaign": {"source": "linkedin", "medium": "paid_social", "name": "q1", "term": None,
                                     "content": "v1"},
                        "userAgent": "Mozilla/5.0"},
            "properties": {}}
    body.update(extra)
    return json.dumps(body).encode()


GOOD_LINES = [
    event("m1"),
    event("m2", type="identify", traits={"email": "Jane@Acme.com", "firstName": "Jane"}, ts="2026-03-01T11:00:00+02:00"),
    event("m3", type="track", event="Form Submitted", properties={"form_id": "f1", "email": "jane@acme.com", "topic": "seo"}),
    event("m1"),  # duplicate messageId: kept (staging dedupes)
    event("m4", userId=12345),
]
BAD_LINES = [
    (b'{"type": "page", "messageId": "b1", broken', "broken JSON"),
    (b"", "empty line"),
    (b'["not", "an", "object"]', "not a JSON object"),
    (event("b2", ts="yesterday"), "unparseable timestamp: 'yesterday'"),
    (event("b3", ts=None), "missing timestamp"),
    (event(""), "missing messageId"),
    (b'{"type":"page","messageId":"b4","timestamp":"2026-03-01T10:00:00Z","context":{"page":{"title":"Caf\xe9"}}}',
     "bad encoding: not valid UTF-8"),
]


def write_day(root: Path, day: dt.date, lines: list[bytes], newline: bytes = b"\n") -> Path:
    folder = root / "web" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day.isoformat()}.jsonl"
    path.write_bytes(newline.join(lines) + newline)
    return path


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def interleaved() -> tuple[list[bytes], dict[int, str]]:
    lines, bad = [], {}
    for i, good in enumerate(GOOD_LINES):
        lines.append(good)
        if i < len(BAD_LINES):
            lines.append(BAD_LINES[i][0])
            bad[len(lines)] = BAD_LINES[i][1]
    for text, reason in BAD_LINES[len(GOOD_LINES):]:
        lines.append(text)
        bad[len(lines)] = reason
    return lines, bad


def test_every_bad_line_is_quarantined_with_line_reason_and_text(tmp_path, con):
    lines, bad = interleaved()
    write_day(tmp_path, DAY1, lines)
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (counts.rows_loaded, counts.rows_quarantined, counts.files_read) == (5, 7, 1)
    quarantine = con.execute("select line, reason, raw_text, event_date, loaded_at from raw.quarantine order by line").fetchall()
    assert [(q[0], q[1]) for q in quarantine] == sorted(bad.items())
    assert all(q[3] == DAY1 and q[4] == LOADED_AT for q in quarantine)
    texts = {q[0]: q[2] for q in quarantine}
    assert texts[2] == lines[1].decode()
    bad_utf8 = next(line for line, reason in bad.items() if reason.startswith("bad encoding"))
    assert texts[bad_utf8].startswith('{"type":"page","messageId":"b4"')  # invalid bytes shown as '?'
    # rows in raw + quarantine = lines in the file
    assert counts.rows_loaded + counts.rows_quarantined == len(lines)
    raw_lines = [r[0] for r in con.execute("select _line from raw.web_events order by _line").fetchall()]
    assert sorted(raw_lines + list(bad)) == list(range(1, len(lines) + 1))


def test_fields_are_extracted_and_typed(tmp_path, con):
    write_day(tmp_path, DAY1, GOOD_LINES)
    load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    rows = con.execute(
        "select _line, event_date, message_id, type, event, ts, page_path, page_url, page_referrer, page_title, "
        "campaign_source, campaign_medium, campaign_name, campaign_term, campaign_content, user_agent, traits_email, "
        "user_id, properties->>'topic', _format, _extra, _source_file from raw.web_events order by _line").fetchall()
    first = rows[0]
    assert first[:16] == (1, DAY1, "m1", "page", None, dt.datetime(2026, 3, 1, 10, 0, 0, 123000), "/pricing",
                          "https://ex.com/pricing?utm_source=li", "https://www.google.com/", "Pricing", "linkedin",
                          "paid_social", "q1", None, "v1", "Mozilla/5.0")
    assert first[19:21] == ("segment", None) and first[21].endswith("web/events/2026-03-01.jsonl")
    assert rows[1][3] == "identify" and rows[1][5] == dt.datetime(2026, 3, 1, 9, 0) and rows[1][16] == "Jane@Acme.com"
    assert rows[2][4] == "Form Submitted" and rows[2][18] == "seo"
    assert [r[2] for r in rows].count("m1") == 2  # duplicates kept
    assert rows[4][17] == "12345"  # a numeric userId arrives as text


def test_crlf_line_ends(tmp_path, con):
    write_day(tmp_path, DAY1, [GOOD_LINES[0], b"", b"{broken", GOOD_LINES[2]], newline=b"\r\n")
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (counts.rows_loaded, counts.rows_quarantined) == (2, 2)
    assert con.execute("select list(_line order by _line) from raw.web_events").fetchone()[0] == [1, 4]
    assert con.execute("select list(reason order by line) from raw.quarantine").fetchone()[0] == ["empty line", "broken JSON"]


def table_rows(con, day: dt.date | None = None) -> tuple[list, list]:
    return (con.execute("select * from raw.web_events where event_date = coalesce($day, event_date) order by all",
                        {"day": day}).fetchall(),
            con.execute("select * from raw.quarantine where event_date = coalesce($day, event_date) order by all",
                        {"day": day}).fetchall())


def test_day_reload_replaces_exactly_that_day(tmp_path, con):
    lines, _ = interleaved()
    write_day(tmp_path, DAY1, lines)
    write_day(tmp_path, DAY2, [event("d2-1", "2026-03-02T01:00:00Z"), b"{oops"])
    load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    before = table_rows(con)
    # same files, forced: identical tables (idempotent)
    counts = load_web_events(con, tmp_path, force=True, loaded_at=LOADED_AT)
    assert counts.files_read == 2 and table_rows(con) == before
    # day 2 changes: only its rows (raw and quarantine) are replaced
    day1 = table_rows(con, DAY1)
    write_day(tmp_path, DAY2, [event("d2-2", "2026-03-02T02:00:00Z")])
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (counts.files_read, counts.files_skipped) == (1, 1)
    assert table_rows(con, DAY1) == day1
    assert [r[1] for r in table_rows(con, DAY2)[0]] == ["d2-2"]
    assert table_rows(con, DAY2)[1] == []


def test_incremental_skips_unchanged_files_and_backfill_forces_a_range(tmp_path, con):
    write_day(tmp_path, DAY1, GOOD_LINES)
    day2 = write_day(tmp_path, DAY2, [event("x")])
    assert load_web_events(con, tmp_path, loaded_at=LOADED_AT).files_read == 2
    again = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (again.files_read, again.files_skipped, again.rows_loaded) == (0, 2, 0)
    # same size, new mtime: reloaded
    stat = day2.stat()
    os.utime(day2, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert load_web_events(con, tmp_path, loaded_at=LOADED_AT).files_read == 1
    # backfill: only the chosen days, even though unchanged
    forced = load_web_events(con, tmp_path, days=[DAY1], force=True, loaded_at=LOADED_AT)
    assert (forced.files_read, forced.files_skipped, forced.rows_loaded) == (1, 0, 5)
    log = con.execute("select event_date, rows_loaded, rows_quarantined, file_size from raw.load_log "
                      "where source = 'web_events' order by 1").fetchall()
    assert log == [(DAY1, 5, 0, (tmp_path / "web/events/2026-03-01.jsonl").stat().st_size), (DAY2, 1, 0, day2.stat().st_size)]


@pytest.mark.parametrize("name", ["2026-3-01.jsonl", "events.jsonl", "2026-02-30.jsonl", "2026-03-01.json"])
def test_file_name_that_is_not_a_date_is_an_error(tmp_path, con, name):
    write_day(tmp_path, DAY1, GOOD_LINES)
    (tmp_path / "web" / "events" / name).write_bytes(GOOD_LINES[0] + b"\n")
    with pytest.raises(LandingFileError, match=f"{name}: not a day file: name it YYYY-MM-DD.jsonl"):
        load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    # checked before loading anything
    assert con.execute("select count(*) from information_schema.tables where table_name = 'web_events'").fetchone()[0] == 0


def test_no_events_folder_loads_nothing(tmp_path, con):
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (counts.rows_loaded, counts.files_read) == (0, 0)
    assert con.execute("select count(*) from raw.web_events").fetchone()[0] == 0


@pytest.mark.parametrize("odd_line, from_text", [
    (b'{"messageId": "\xff\xfe"}', 60_000 - 7),  # rejected by the text read: the whole file from its text
    (b"  ", 15),  # blank: the JSON reader skips it; only the blank and broken lines from their text
])
def test_a_larger_day_keeps_line_numbers_aligned(tmp_path, con, odd_line, from_text):
    """Set-based numbering stays right across DuckDB's parallel chunks, rejected and blank lines."""
    lines = []
    for i in range(60_000):
        if i % 9_973 == 5:
            lines.append(odd_line)
        elif i % 7_919 == 3:
            lines.append(b"{broken")
        else:
            lines.append(b'{"type":"track","messageId":"m%d","timestamp":"2026-03-01T00:00:00Z"}' % (i + 1))
    write_day(tmp_path, DAY1, lines)
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert counts.rows_loaded + counts.rows_quarantined == 60_000 and counts.rows_quarantined == 15
    assert counts.lines_from_text == from_text
    misplaced = con.execute("select count(*) from raw.web_events where message_id <> 'm' || _line").fetchone()[0]
    assert misplaced == 0


def test_a_batch_of_many_days_keeps_each_files_lines_and_rejects_apart(tmp_path, con):
    """Several days in one read: line numbers, rejects and load_log rows stay per file."""
    days = [DAY1 + dt.timedelta(days=i) for i in range(5)]
    expected_bad = {}
    for i, day in enumerate(days):
        lines = [event(f"{day}-{n}") for n in range(1, 8)]
        lines.insert(i, BAD_LINES[-1][0])  # bad UTF-8 at a different line in every file
        lines.insert(6 - i, b"{oops")
        write_day(tmp_path, day, lines)
        expected_bad[day] = [n for n, text in enumerate(lines, 1) if text in (BAD_LINES[-1][0], b"{oops")]
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert (counts.rows_loaded, counts.rows_quarantined, counts.files_read) == (35, 10, 5)
    for day in days:
        lines = con.execute("select list(_line order by _line) from raw.web_events where event_date = ?", [day]).fetchone()[0]
        bad = con.execute("select list(line order by line) from raw.quarantine where event_date = ?", [day]).fetchone()[0]
        assert bad == expected_bad[day] and sorted(lines + bad) == list(range(1, 10))
        assert con.execute("select list(message_id order by _line) from raw.web_events where event_date = ?",
                           [day]).fetchone()[0] == [f"{day}-{n}" for n in range(1, 8)]
    log = con.execute("select event_date, rows_loaded, rows_quarantined from raw.load_log order by event_date").fetchall()
    assert log == [(day, 7, 2) for day in days]


def test_batches_cut_by_bytes_and_files(tmp_path):
    from assets.raw.web_events_load import batches
    files = {DAY1 + dt.timedelta(days=i): write_day(tmp_path, DAY1 + dt.timedelta(days=i), [b"x" * 99]) for i in range(5)}
    assert [len(b) for b in batches(files, max_bytes=250, max_files=10)] == [2, 2, 1]
    assert [len(b) for b in batches(files, max_bytes=10_000, max_files=3)] == [3, 2]
    assert [len(b) for b in batches(files, max_bytes=50, max_files=10)] == [1, 1, 1, 1, 1]  # a big file alone
    assert [d for b in batches(files) for d, _ in b] == sorted(files)


# Lines whose typed row DuckDB's JSON reader gives differently from (or not at all, unlike) the text,
# next to plain good ones: each must end up as the text diagnosis says, on its own line.
ODD_LINES = [
    b"   ", b"\t", b"\x0b", b"\x0c ",  # whitespace only: the JSON reader skips these lines
    b'  ' + event("o1") + b'  ',  # padded object
    b'{"type":"page","messageId":"o2","timestamp":"2026-03-01T10:00:00Z"}{"messageId":"o3"}',  # two objects
    b'"just a string"', b"123", b"null", b"{}",
    b'{"type":"page","messageId":"o4","messageId":"o5","timestamp":"2026-03-01T10:00:00Z"}',  # duplicate key
    b'{"type":"page","messageId":"o6","timestamp":"2026-03-01T10:00:00Z","context":"not an object"}',
    b'{"type":"page","messageId":"o7","timestamp":20260301}',  # numeric timestamp
    b'{"type":"page","messageId":8,"timestamp":"2026-03-01T10:00:00Z"}',  # numeric messageId
    b'{"type":"page","messageId":"o9","timestamp":"2026-03-01T10:00:00Z","properties":{"a": [1,  2], "b": "\\u00e9"}}',
    b'{"type":"page","messageId":" o10 ","timestamp":" 2026-03-01T10:00:00Z ","anonymousId":"  "}',
    b'\xc2\xa0',  # a no-break space: not JSON whitespace
    b'{"action":"track","messageId":"o11","timestamp":"2026-03-01 10:00:00+02:00"}',
]


def loaded_lines(con, day: dt.date) -> tuple[list, list]:
    """raw.web_events and raw.quarantine rows of a day, without what names the file."""
    raw = con.execute("select * exclude (event_date, _source_file) from raw.web_events where event_date = ? "
                      "order by _line, message_id", [day]).fetchall()
    quarantine = con.execute("select line, reason, raw_text from raw.quarantine where event_date = ? order by line",
                             [day]).fetchall()
    return raw, quarantine


def test_typed_reader_and_text_diagnosis_give_the_same_rows(tmp_path, con):
    """Day 1 takes the fast path (the JSON reader's typed rows); day 2 holds the same lines plus one the
    text read rejects, which sends every line of its file to the text diagnosis: same rows either way."""
    lines, _ = interleaved()
    lines = [line for line in lines if b"Caf\xe9" not in line] + ODD_LINES + GOOD_LINES
    write_day(tmp_path, DAY1, lines)
    write_day(tmp_path, DAY2, lines + [b'{"messageId": "\xff"}'])
    counts = load_web_events(con, tmp_path, loaded_at=LOADED_AT)
    assert counts.rows_loaded + counts.rows_quarantined == 2 * len(lines) + 1
    fast_raw, fast_quarantine = loaded_lines(con, DAY1)
    slow_raw, slow_quarantine = loaded_lines(con, DAY2)
    assert fast_raw == slow_raw
    assert fast_quarantine == slow_quarantine[:-1]
    assert slow_quarantine[-1][:2] == (len(lines) + 1, "bad encoding: not valid UTF-8")
    # the fast file was diagnosed from its text only where its typed rows were not plainly good; the
    # other, on every line but the rejected one (quarantined as read)
    assert counts.lines_from_text == len(fast_quarantine) + len(slow_raw) + len(slow_quarantine) - 1
    by_message = {r[0]: r for r in fast_raw}
    assert {"o1", "8", "o9", "o10", "o11"} <= by_message.keys()
    assert by_message["o10"][3] is None  # blank anonymousId
    reasons = {line: reason for line, reason, _ in fast_quarantine}
    # spaces, tabs or nothing make an empty line; \v and \f are not JSON whitespace: broken JSON
    assert sum(reason == "empty line" for reason in reasons.values()) == 3
    assert [reasons[lines.index(text) + 1] for text in (b"\x0b", b"\x0c ")] == ["broken JSON"] * 2


def many_days(root: Path, n: int) -> dict[dt.date, Path]:
    paths = {}
    for i in range(n):
        day = DAY1 + dt.timedelta(days=i)
        paths[day] = write_day(root, day, [event(f"d{i}-{j}", f"{day.isoformat()}T10:00:00Z") for j in range(50)]
                               + [b"{broken", b""] + GOOD_LINES[:2])
    return paths


def test_batches_loaded_side_by_side_give_the_tables_one_at_a_time_gives(tmp_path):
    files = many_days(tmp_path / "landing", 9)
    todo = batches(files, max_bytes=1, max_files=2)  # one file per batch
    assert len(todo) == 9
    tables = []
    for loaders in (1, 2):
        with duckdb.connect(str(tmp_path / f"warehouse-{loaders}.duckdb")) as con:
            create_raw_tables(con)
            counts = load_batches(con, todo, LOADED_AT, loaders=loaders)
            assert (counts.files_read, counts.rows_loaded, counts.rows_quarantined) == (9, 9 * 52, 9 * 2)
            log = con.execute("select * exclude (source_file) from raw.load_log order by all").fetchall()
            tables.append((table_rows(con), log))
    assert tables[0] == tables[1]


def test_a_failed_batch_stops_the_load_and_keeps_the_batches_committed_before_it(tmp_path, con):
    files = many_days(tmp_path, 3)
    todo = batches(files, max_bytes=1)
    todo[1][0][1].unlink()  # the second day's file disappears after it was listed
    create_raw_tables(con)
    with pytest.raises(FileNotFoundError):
        load_batches(con, todo, LOADED_AT, loaders=1)
    assert con.execute("select list(distinct event_date order by event_date) from raw.web_events").fetchone()[0] == [DAY1]
