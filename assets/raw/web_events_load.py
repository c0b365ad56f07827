"""Load web event day files (`web/events/YYYY-MM-DD.jsonl`, Segment spec) into raw.web_events.

Per day, in its own transaction: the day's rows in raw.web_events and raw.quarantine are replaced
(idempotent), and raw.load_log records the file's size and modification time. Incremental by default:
a day whose file has the same size and mtime as at its last load is skipped. `days` + `force=True`
reloads a chosen range (backfill). Every line ends up in raw.web_events or raw.quarantine
(`sql/raw/load_web_events_day.sql`); duplicates are kept for staging to dedupe by messageId.
A day file that disappears from the landing folder keeps its loaded rows (the warehouse is the
history; the landing folder may be pruned).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Iterable

import duckdb

from assets.raw.crm_load import file_mtime
from assets.raw.landing import WEB_SOURCE, LandingFileError, LoadCounts, create_raw_tables
from assets.sql_files import run_sql

DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl")


def events_dir(landing_dir: Path) -> Path:
    """Where web event day files land: `<landing>/web/events/`."""
    return Path(landing_dir) / "web" / "events"


def event_day_files(landing_dir: Path) -> dict[dt.date, Path]:
    """Every day file by its date. A file whose name is not `YYYY-MM-DD.jsonl` (a real date) ->
    LandingFileError naming it (hidden files such as .DS_Store are ignored)."""
    folder = events_dir(landing_dir)
    if not folder.is_dir():
        return {}
    files: dict[dt.date, Path] = {}
    problems = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        match = DAY_FILE.fullmatch(path.name)
        try:
            day = dt.date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        if day is None:
            problems.append((path, "not a day file: name it YYYY-MM-DD.jsonl (the UTC date of its events), "
                                   "or move it out of web/events/"))
        else:
            files[day] = path
    if problems:
        raise LandingFileError(problems)
    return files


def _unchanged(con: duckdb.DuckDBPyConnection, day: dt.date, path: Path) -> bool:
    row = con.execute(
        "select file_size, file_mtime from raw.load_log where source = ? and event_date = ?", [WEB_SOURCE, day]
    ).fetchone()
    return row is not None and row[0] == path.stat().st_size and row[1] == file_mtime(path)


def load_event_day(con: duckdb.DuckDBPyConnection, day: dt.date, path: Path, loaded_at: dt.datetime) -> LoadCounts:
    """Replace one day's rows (raw.web_events, its quarantine rows, its load_log row) in one transaction."""
    params = {
        "path": str(path), "source_file": str(path), "event_date": day, "loaded_at": loaded_at,
        "file_size": path.stat().st_size, "file_mtime": file_mtime(path),
    }
    con.begin()
    try:
        run_sql(con, "raw/read_event_lines", params)
        run_sql(con, "raw/load_web_events_day", params)
        loaded, quarantined = con.execute(
            "select rows_loaded, rows_quarantined from raw.load_log where source = ? and event_date = ?", [WEB_SOURCE, day]
        ).fetchone()
        con.execute("drop table if exists web_lines_read; drop table if exists web_line_steps; drop table if exists web_parsed")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return LoadCounts(loaded, quarantined, 1, 0, ("segment",))


def load_web_events(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    days: Iterable[dt.date] | None = None,
    force: bool = False,
    loaded_at: dt.datetime | None = None,
) -> LoadCounts:
    """Load the day files of `landing_dir` (all, or only `days`), skipping unchanged ones unless `force`.

    Returns the totals: rows loaded and quarantined by the days loaded, files read and skipped."""
    files = event_day_files(Path(landing_dir))
    if days is not None:
        wanted = set(days)
        files = {d: p for d, p in files.items() if d in wanted}
    loaded_at = loaded_at or dt.datetime.now(dt.timezone.utc)
    if loaded_at.tzinfo:
        loaded_at = loaded_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    create_raw_tables(con)
    run_sql(con, "raw/macros")
    total = LoadCounts()
    for day, path in sorted(files.items()):
        if not force and _unchanged(con, day, path):
            total += LoadCounts(files_skipped=1)
            continue
        total += load_event_day(con, day, path, loaded_at)
    return total
