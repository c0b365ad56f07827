"""Load web event day files (`web/events/YYYY-MM-DD.jsonl`, Segment spec) into raw.web_events.

Day files are loaded in batches (one read, one transaction per batch): each day's rows in
raw.web_events and raw.quarantine are replaced (idempotent), and raw.load_log records the file's size
and modification time. Incremental by default:
a day whose file has the same size and mtime as at its last load is skipped. `days` + `force=True`
reloads a chosen range (backfill). Every line ends up in raw.web_events or raw.quarantine
(`sql/raw/read_event_lines.sql`, `sql/raw/read_event_json.sql`, `sql/raw/load_web_event_days.sql`); duplicates are kept for staging to dedupe by messageId.
A day file that disappears from the landing folder keeps its loaded rows (the warehouse is the
history; the landing folder may be pruned).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor
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
    """Every day file by its date. A file whose name is not `YYYY-MM-DD.jsonl` (a real date), or an
    empty one -> LandingFileError naming it (hidden files such as .DS_Store are ignored)."""
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
        elif path.stat().st_size == 0:
            # loading it would silently replace the day's events with nothing
            problems.append((path, "the day file is empty; land the day's events again (or delete the file "
                                   "if that day really had none)"))
        else:
            files[day] = path
    if problems:
        raise LandingFileError(problems)
    return files


# A batch of day files is read by one statement and committed in one transaction: big enough that a
# full history loads at DuckDB's read speed, small enough that the text of LOADERS batches fits in
# memory. Numbering a batch's lines is sequential in DuckDB, so one batch keeps about one core busy:
# LOADERS batches load side by side, each on its own cursor and in its own transaction. 256 MB: two
# batches at a time peak at 2.1 GB RSS loading 90 bench days (512 MB: 3.1 GB, for 6% less time).
BATCH_BYTES = 1 << 28
BATCH_FILES = 64
LOADERS = 2
DROP_TEMP_TABLES = "; ".join(["drop view if exists web_text_lines"] + [f"drop table if exists {t}" for t in (
    "web_batch_files", "web_lines_read", "web_file_starts", "web_rejects", "web_rejected_lines", "web_line_steps",
    "web_json_read", "web_json_starts", "web_blank_lines", "web_blank_steps", "web_fast_files", "web_json_lines",
    "web_slow_parsed", "web_quarantined", "web_reject_errors", "web_reject_scans")])


def _loaded_files(con: duckdb.DuckDBPyConnection) -> dict[dt.date, tuple[int, dt.datetime]]:
    rows = con.execute(
        "select event_date, file_size, file_mtime from raw.load_log where source = ? and event_date is not null",
        [WEB_SOURCE],
    ).fetchall()
    return {day: (size, mtime) for day, size, mtime in rows}


def batches(files: dict[dt.date, Path], max_bytes: int = BATCH_BYTES, max_files: int = BATCH_FILES) -> list[list[tuple[dt.date, Path]]]:
    """Day files in date order, cut into batches of at most `max_bytes` (a bigger file is a batch of
    its own) and `max_files`."""
    out: list[list[tuple[dt.date, Path]]] = []
    size = 0
    for day, path in sorted(files.items()):
        n = path.stat().st_size
        if not out or size + n > max_bytes or len(out[-1]) >= max_files:
            out.append([])
            size = 0
        out[-1].append((day, path))
        size += n
    return out


def load_event_days(con: duckdb.DuckDBPyConnection, days: list[tuple[dt.date, Path]], loaded_at: dt.datetime) -> LoadCounts:
    """Replace the rows of these days (raw.web_events, their quarantine rows, their load_log rows) in
    one transaction. DuckDB's JSON reader types the lines of every file whose rows line up with its
    text (no line the text read rejected); the lines it could not vouch for, and every line of any
    other file, are diagnosed from their text (`lines_from_text`), so both paths give the same rows."""
    files = [{"path": str(path), "event_date": day, "file_size": path.stat().st_size, "file_mtime": file_mtime(path)}
             for day, path in days]
    con.begin()
    try:
        con.execute("create or replace temp table web_batch_files as select unnest($files, recursive := true)",
                    {"files": files})
        paths = [f["path"] for f in files]
        run_sql(con, "raw/read_event_lines", {"paths": paths})
        run_sql(con, "raw/read_event_json", {"paths": paths})
        run_sql(con, "raw/load_web_event_days", {"paths": paths, "loaded_at": loaded_at})
        loaded, quarantined = con.execute(
            "select sum(rows_loaded)::bigint, sum(rows_quarantined)::bigint from raw.load_log "
            "where source = ? and event_date in (select event_date from web_batch_files)", [WEB_SOURCE]
        ).fetchone()
        from_text = con.execute("select count(*) from web_slow_parsed").fetchone()[0]
        con.execute(DROP_TEMP_TABLES)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return LoadCounts(loaded, quarantined, len(days), 0, ("segment",), from_text)


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
    run_sql(con, "shared/trim_fast")
    if not force:
        loaded = _loaded_files(con)
        unchanged = {d for d, p in files.items() if loaded.get(d) == (p.stat().st_size, file_mtime(p))}
        files = {d: p for d, p in files.items() if d not in unchanged}
    else:
        unchanged = set()
    return LoadCounts(files_skipped=len(unchanged)) + load_batches(con, batches(files), loaded_at)


def load_batches(con: duckdb.DuckDBPyConnection, todo: list[list[tuple[dt.date, Path]]], loaded_at: dt.datetime,
                 loaders: int = LOADERS) -> LoadCounts:
    """Load the batches in date order, up to `loaders` at a time. Each batch commits on its own (as one
    at a time would); after a failure no new batch starts, and the first error is raised once the
    batches under way have finished."""
    pending = iter(todo)
    lock = threading.Lock()
    failed = threading.Event()
    results: list[LoadCounts] = []

    def work() -> None:
        cursor = con.cursor()
        try:
            run_sql(cursor, "raw/macros")
            run_sql(cursor, "shared/trim_fast")
            while not failed.is_set():
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                counts = load_event_days(cursor, batch, loaded_at)
                with lock:
                    results.append(counts)
        except BaseException:
            failed.set()
            raise
        finally:
            cursor.close()

    workers = max(1, min(loaders, len(todo)))
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(work) for _ in range(workers)]
    for future in futures:
        future.result()  # the first error, if any
    return sum(results, LoadCounts())
