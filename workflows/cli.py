"""Command line: `python -m workflows.cli run|backfill` — the nightly job in this process, with
progress per step and a summary at the end (what `make run` calls).

    python -m workflows.cli run [--data-date 2026-11-23]
    python -m workflows.cli backfill --start 2026-10-01 --end 2026-10-31

Any error is one line on stderr (plus where to look); a traceback, when there is one, goes to a file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import traceback
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from assets.config_files import ConfigError
from assets.data_date import DATA_DATE_TAG, parse_data_date
from assets.raw.landing import LandingFileError
from assets.raw.web_events_load import event_day_files, events_dir
from workflows.instance import (
    ensure_instance, fail_orphaned_runs, invalid_config_line, run_process_tags, wait_for_runs_in_progress,
)
from workflows.progress import message_lines, progress_logger
from workflows.settings import Settings

SUMMARY_SCHEMAS = ("raw", "staging", "segments", "audiences", "readouts")
JOB_NAME = "nightly"
TRACEBACK_FILE = "last_cli_error.txt"


class CliError(Exception):
    """A problem the user can fix from the message alone (bad argument, nothing to do): one line, exit 2."""


def run_nightly(settings: Settings, tags: dict[str, str], run_config: dict | None = None) -> bool:
    """Run the nightly job in-process against the persistent instance; True when it succeeded.
    Runs of the job left STARTED by a killed process are marked failed first; a live one (the
    schedule's) is waited for."""
    ensure_instance(settings.dagster_home)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    from workflows.definitions import defs  # imported late: DAGSTER_HOME must be set first

    job = defs.resolve_job_def(JOB_NAME).with_logger_defs({"progress": progress_logger})
    config = {"loggers": {"progress": {}}, **(run_config or {})}
    with DagsterInstance.get() as instance:
        for orphan in fail_orphaned_runs(instance, JOB_NAME, reporter="python -m workflows.cli"):
            print(f"Marked run {orphan.run_id[:8]} failed: it was {orphan.status} but its process "
                  f"(pid {orphan.pid}) is gone.", file=sys.stderr)
        wait_for_runs_in_progress(instance, JOB_NAME, say=lambda text: print(text, file=sys.stderr))
        tags = {**tags, **run_process_tags()}
        result = job.execute_in_process(instance=instance, tags=tags, run_config=config, raise_on_error=False)
        if not result.success:
            print(
                f"\nThe nightly run failed (run id {result.run_id}). Details: `make ui`, then Runs -> "
                f"{result.run_id[:8]}; the failed step's error is printed above.",
                file=sys.stderr,
            )
        return result.success


def summary(settings: Settings) -> str:
    """Tables with row counts, quarantined rows by reason, publishes, and where everything is."""
    lines = [f"Warehouse: {settings.warehouse_path}"]
    if not settings.warehouse_path.exists():
        return lines[0] + " (not created)"
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() "
            "where schema_name in (select unnest($schemas)) order by 1, 2",
            {"schemas": list(SUMMARY_SCHEMAS)},
        ).fetchall()
        for schema, name, _ in tables:
            count = con.table(f"{schema}.{name}").aggregate("count(*)").fetchone()[0]
            lines.append(f"  {schema + '.' + name:<36} {count:>12,} rows")
        if any((s, n) == ("raw", "quarantine") for s, n, _ in tables):
            rows = con.execute(
                "select source, reason, count(*) from raw.quarantine group by all order by 3 desc limit 10"
            ).fetchall()
            lines.append("Quarantined rows (raw.quarantine):" if rows else "Quarantined rows: none")
            lines += [f"  {source:<14} {n:>8,}  {reason}" for source, reason, n in rows]
        if any((s, n) == ("audiences", "publish_log") for s, n, _ in tables):
            rows = con.execute(
                "select audience, destination, status, coalesce(reason, '') from audiences.publish_log "
                "where run_id = (select run_id from audiences.publish_log order by logged_at desc limit 1) "
                "order by 1, 2"
            ).fetchall()
            lines.append("Publishes this run:")
            lines += [f"  {a:<28} {d:<20} {s:<10} {r}" for a, d, s, r in rows]
    finally:
        con.close()
    lines.append(f"Exports:  {settings.export_dir}")
    lines.append(f"Reports:  {settings.report_dir}")
    lines.append(f"Landing:  {settings.landing_dir}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line's arguments (argparse prints its own one-line usage errors, exit 2)."""
    parser = argparse.ArgumentParser(prog="python -m workflows.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the nightly job once")
    run.add_argument("--data-date", help="the night to process (YYYY-MM-DD); default: newest landed day")
    backfill = sub.add_parser("backfill", help="reload web-event days in a range, then run the nightly job")
    backfill.add_argument("--start", required=True, help="first day (YYYY-MM-DD)")
    backfill.add_argument("--end", required=True, help="last day (YYYY-MM-DD), inclusive")
    sub.add_parser("summary", help="print the warehouse summary")
    return parser.parse_args(argv)


def _date(value: str, origin: str) -> dt.date:
    try:
        return parse_data_date(value, origin)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def backfill_days(landing: Path, start: dt.date, end: dt.date) -> list[dt.date]:
    """The landed web-event days in [start, end]; CliError when there is none (a backfill that
    reloads nothing is a mistake in the range or the landing folder, not a success)."""
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    files = sorted(event_day_files(landing))
    days = [d for d in files if start <= d <= end]
    if not days:
        landed = f"it holds {len(files)} day file(s), {files[0]} to {files[-1]}" if files else "it holds none"
        raise CliError(f"no web event day file between {start} and {end} in {events_dir(landing)} ({landed})")
    return days


def _run_config_and_tags(args: argparse.Namespace, settings: Settings) -> tuple[dict, dict[str, str]]:
    """The nightly run's config and tags for `run` / `backfill` (CliError on a bad argument)."""
    tags = {"trigger": "cli"}
    if args.command == "run":
        if args.data_date:
            tags[DATA_DATE_TAG] = _date(args.data_date, "--data-date").isoformat()
        return {}, tags
    start, end = _date(args.start, "--start"), _date(args.end, "--end")
    days = backfill_days(settings.landing_dir, start, end)
    print(f"Backfill: reloading {len(days)} web event day file(s), {days[0]} to {days[-1]}", file=sys.stderr)
    tags["backfill"] = f"{start}..{end}"
    return {"ops": {"raw__web_events": {"config": {"start_date": str(start), "end_date": str(end)}}}}, tags


def _first_line(exc: BaseException, settings: Settings) -> str:
    """One line for an unexpected error: its type and first line; for an invalid `dagster.yaml`, the
    file and its first problem (`invalid_config_line`)."""
    return invalid_config_line(exc, settings.dagster_home) or (
        f"{type(exc).__name__}: {message_lines(str(exc) or '(no message)')[0]}")


def save_traceback(settings: Settings) -> Path:
    """Write the current exception's traceback to REPORT_DIR (or the temp folder if that fails)."""
    text = traceback.format_exc()
    for folder in (settings.report_dir, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / TRACEBACK_FILE
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(could not be saved)")


def execute(args: argparse.Namespace, settings: Settings) -> int:
    """Do the command; exceptions propagate to `main`, which turns them into one line."""
    if args.command == "summary":
        print(summary(settings))
        return 0
    run_config, tags = _run_config_and_tags(args, settings)
    print(f"Nightly job: landing {settings.landing_dir} -> warehouse {settings.warehouse_path}", file=sys.stderr)
    started = dt.datetime.now()
    ok = run_nightly(settings, tags, run_config)
    took = (dt.datetime.now() - started).total_seconds()
    print(("Done" if ok else "FAILED") + f" in {took:.0f}s.\n" + summary(settings))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point: the exit code (0 done, 1 the run or the command failed, 2 a usage error)."""
    args = parse_args(argv)
    settings = Settings.from_env()
    try:
        return execute(args, settings)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C); run the command again to finish the night", file=sys.stderr)
        return 130
    except (ConfigError, LandingFileError) as exc:
        # the message names the file (and key, or one line per bad file): nothing more to look at
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the point is one line instead of a traceback
        where = save_traceback(settings)
        print(f"error: {_first_line(exc, settings)}", file=sys.stderr)
        print(f"  full traceback: {where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
