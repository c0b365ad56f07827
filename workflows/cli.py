"""Command line: `python -m workflows.cli run|backfill` — the nightly job in this process, with
progress per step and a summary at the end (what `make run` calls).

    python -m workflows.cli run [--data-date 2026-11-23]
    python -m workflows.cli backfill --start 2026-10-01 --end 2026-10-31
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

import duckdb
from dagster import DagsterInstance

from assets.data_date import DATA_DATE_TAG, parse_data_date
from workflows.instance import ensure_instance
from workflows.progress import progress_logger
from workflows.settings import Settings

SUMMARY_SCHEMAS = ("raw", "staging", "segments", "audiences", "readouts")


def run_nightly(settings: Settings, tags: dict[str, str], run_config: dict | None = None) -> bool:
    """Run the nightly job in-process against the persistent instance; True when it succeeded."""
    ensure_instance(settings.dagster_home)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    from workflows.definitions import defs  # imported late: DAGSTER_HOME must be set first

    job = defs.resolve_job_def("nightly").with_logger_defs({"progress": progress_logger})
    config = {"loggers": {"progress": {}}, **(run_config or {})}
    with DagsterInstance.get() as instance:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the nightly job once")
    run.add_argument("--data-date", help="the night to process (YYYY-MM-DD); default: newest landed day")
    backfill = sub.add_parser("backfill", help="reload web-event days in a range, then run the nightly job")
    backfill.add_argument("--start", required=True, help="first day (YYYY-MM-DD)")
    backfill.add_argument("--end", required=True, help="last day (YYYY-MM-DD), inclusive")
    sub.add_parser("summary", help="print the warehouse summary")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.command == "summary":
        print(summary(settings))
        return 0
    tags = {"trigger": "cli"}
    run_config: dict = {}
    try:
        if args.command == "run" and args.data_date:
            tags[DATA_DATE_TAG] = parse_data_date(args.data_date, "--data-date").isoformat()
        if args.command == "backfill":
            start = parse_data_date(args.start, "--start")
            end = parse_data_date(args.end, "--end")
            if end < start:
                raise ValueError(f"--end {end} is before --start {start}")
            run_config = {"ops": {"raw__web_events": {"config": {"start_date": str(start), "end_date": str(end)}}}}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Nightly job: landing {settings.landing_dir} -> warehouse {settings.warehouse_path}", file=sys.stderr)
    started = dt.datetime.now()
    ok = run_nightly(settings, tags, run_config)
    took = (dt.datetime.now() - started).total_seconds()
    print(("Done" if ok else "FAILED") + f" in {took:.0f}s.\n" + summary(settings))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
