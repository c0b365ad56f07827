"""Write the sample landing folder: `python -m sample.generate --out DIR [--if-empty] [--scale small]
[--seed 7] [--end-date YYYY-MM-DD] [--days N]`.

Same arguments, same bytes. A day's event file depends only on (seed, scale, date), so a later
`--end-date` rewrites nothing that already exists and adds the new days; files whose content would not
change are left untouched (their modification time too), which keeps incremental loaders honest.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path


from sample.crm import snapshot
from sample.population import build_population
from sample.profiles import ScaleProfile, parse_scale
from sample.web_events import day_file

DEFAULT_SEED = 7
CSV_DATETIME = "%Y-%m-%d %H:%M:%S"


def default_end_date() -> dt.date:
    """Yesterday in UTC: the last complete day."""
    return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)


def generate(out: Path, scale: str | float | ScaleProfile = "small", seed: int = DEFAULT_SEED,
             end_date: dt.date | None = None, days: int | None = None) -> dict:
    """Write the landing folder under `out` and return what was written.

    The result has `scale`, `seed`, `end_date`, `days`, `files` ({relative path: {"rows", "bytes",
    "written"}}), `event_lines`, `bytes` and `seconds`.
    """
    started = time.perf_counter()
    profile = parse_scale(scale)
    days = profile.days if days is None else int(days)
    if days < 1:
        raise ValueError(f"--days: {days} must be at least 1")
    end_date = end_date or default_end_date()
    out = Path(out)
    pop = build_population(seed, profile)
    end = end_date.toordinal()
    first = end - days + 1
    files: dict[str, dict] = {}
    for name, frame in snapshot(pop, end, first).items():
        content = frame.write_csv(datetime_format=CSV_DATETIME).encode("utf-8")
        files[f"crm/{name}"] = {"rows": frame.height, "bytes": len(content),
                                "written": _write_if_changed(out / "crm" / name, content)}
    lines_total = 0
    for ordinal in range(first, end + 1):
        day = dt.date.fromordinal(ordinal)
        content, lines = day_file(pop, day)
        rel = f"web/events/{day:%Y-%m-%d}.jsonl"
        files[rel] = {"rows": lines, "bytes": len(content), "written": _write_if_changed(out / rel, content)}
        lines_total += lines
    return {
        "out": str(out), "scale": profile.name, "seed": seed, "end_date": end_date.isoformat(), "days": days,
        "files": files, "event_lines": lines_total, "bytes": sum(f["bytes"] for f in files.values()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _write_if_changed(path: Path, content: bytes) -> bool:
    """Write atomically unless the file already holds exactly `content`; True if written."""
    if path.is_file() and path.stat().st_size == len(content) and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return True


def summary(result: dict) -> str:
    """One line: rows per CRM file, event files and lines, bytes, time."""
    files = result["files"]
    crm = ", ".join(f"{Path(k).stem} {v['rows']:,}" for k, v in files.items() if k.startswith("crm/"))
    n_days = sum(1 for k in files if k.startswith("web/"))
    written = sum(1 for v in files.values() if v["written"])
    return (f"sample data ({result['scale']}, seed {result['seed']}, {n_days} days to {result['end_date']}) -> "
            f"{result['out']}: {crm} rows; {n_days} event files, {result['event_lines']:,} lines; "
            f"{result['bytes'] / 1e6:,.1f} MB ({written} files written) in {result['seconds']} s")


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m sample.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="landing folder to write (crm/, web/events/)")
    parser.add_argument("--if-empty", action="store_true", help="do nothing if the folder already holds files")
    parser.add_argument("--scale", default="small", help="tiny | small | bench | a multiple of bench, e.g. 0.1")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end-date", type=_date, default=None, help="last event day, YYYY-MM-DD (default: yesterday UTC)")
    parser.add_argument("--days", type=int, default=None, help="number of event days (default: the scale's)")
    args = parser.parse_args(argv)
    if args.if_empty and _holds_files(args.out):
        print(f"sample data: {args.out} already holds files; nothing generated (--if-empty)")
        return 0
    try:
        result = generate(args.out, scale=args.scale, seed=args.seed, end_date=args.end_date, days=args.days)
    except ValueError as exc:
        parser.error(str(exc))
    print(summary(result))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


if __name__ == "__main__":
    sys.exit(main())
