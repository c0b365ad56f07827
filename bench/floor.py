"""The read floor: DuckDB reading every landed input once, every column touched, nothing else.

Run in a fresh process (`python -m bench.floor LANDING_DIR` prints one JSON object) so that neither
the harness's imports nor a warm DuckDB instance flatter it. CSV files are read as text with every
column measured; the web event files are read with every line parsed as JSON once (the floor: a
loader cannot do less than parse), and again as bare text lines for reference.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"


def bench_sql(name: str) -> str:
    """The text of `bench/sql/<name>.sql` (one statement, `$name` parameters)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def landed_files(landing_dir: Path) -> tuple[list[Path], list[Path]]:
    """(CSV files under crm/, JSON-lines files under web/events/), sorted; what the nightly job reads."""
    csv_files = sorted((landing_dir / "crm").glob("*.csv"))
    event_files = sorted((landing_dir / "web" / "events").glob("*.jsonl"))
    return csv_files, event_files


def measure_read_floor(landing_dir: Path, threads: int | None = None) -> dict:
    """Seconds for DuckDB to read every landed file once; rows and bytes per source.

    Returns `{"seconds", "csv_s", "events_s", "events_text_s", "bytes", "rows": {...}, "files": n}`;
    `seconds` = CSV + parsed events (the floor). Raises FileNotFoundError naming the
    folder when it holds no landed file."""
    csv_files, event_files = landed_files(landing_dir)
    if not csv_files and not event_files:
        raise FileNotFoundError(f"{landing_dir}: no crm/*.csv and no web/events/*.jsonl to read")
    con = duckdb.connect(config={"threads": threads} if threads else {})
    # The first bound parameter makes the client import numpy/pandas (~1 s): pay it before timing.
    con.execute("select $warm_up", {"warm_up": 1}).fetchall()
    rows: dict[str, int] = {}
    started = time.perf_counter()
    for path in csv_files:
        result = con.execute(bench_sql("read_floor_csv"), {"path": str(path)}).fetchone()
        rows[path.stem] = int(result[0])
    csv_s = time.perf_counter() - started
    events_s = events_text_s = 0.0
    if event_files:
        paths = [str(p) for p in event_files]
        started = time.perf_counter()
        parsed = con.execute(bench_sql("read_floor_events"), {"paths": paths}).fetchone()
        events_s = time.perf_counter() - started
        started = time.perf_counter()
        text = con.execute(bench_sql("read_floor_events_text"), {"paths": paths}).fetchone()
        events_text_s = time.perf_counter() - started
        rows["web_event_lines"] = int(parsed[0])
        rows["web_events"] = int(parsed[2])  # lines holding valid JSON
        rows["web_event_lines_text"] = int(text[0])
    con.close()
    return {
        "seconds": csv_s + events_s,
        "csv_s": csv_s,
        "events_s": events_s,
        "events_text_s": events_text_s,
        "bytes": sum(p.stat().st_size for p in csv_files + event_files),
        "files": len(csv_files) + len(event_files),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the read floor of one landing folder as JSON (called by the harness in a subprocess)."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("landing_dir", type=Path)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(measure_read_floor(args.landing_dir, args.threads)))
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"read floor failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
