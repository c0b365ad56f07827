"""The bench report: targets of issue 8 with PASS/MISS, `report.json`, `report.md` and the printout."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

GB = 10**9
FULL_FLOOR_FACTOR = 2.5
FULL_FIXED_OVERHEAD_S = 10.0
INCREMENTAL_365_VS_30 = 1.25
INCREMENTAL_VS_FULL = 0.20
PEAK_RSS_BENCH = 4 * GB
PEAK_RSS_10X = 24 * GB
SCALE_10X_TIME = 11.0
TOP_ASSETS = 10

REQUIRED_KEYS = ("floor_s", "full_s", "incremental_s", "incremental_30d_s", "peak_rss_bytes", "per_asset_s",
                 "scale", "machine", "rows", "git", "date", "targets", "status")


@dataclass(frozen=True)
class Target:
    """One target of the issue: what was measured, the bound, and whether it was met (None: not measured)."""

    name: str
    measured: str
    bound: str
    passed: bool | None

    @property
    def status(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "MISS")

    def as_dict(self) -> dict:
        return {"name": self.name, "measured": self.measured, "target": self.bound, "status": self.status}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt(value: float | None, unit: str = "s", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def fmt_bytes(value: int | None) -> str:
    """`3.21 GB` or `212.4 MB` (decimal units, as in the targets)."""
    if value is None:
        return "-"
    return f"{value / GB:.2f} GB" if value >= GB else f"{value / 10**6:.1f} MB"


def evaluate_targets(report: dict, baseline: dict | None = None) -> list[Target]:
    """The issue's targets for this report; `baseline` is the scale-1 report, for the 10x scaling target."""
    floor, full = report.get("floor_s"), report.get("full_s")
    inc, inc30 = report.get("incremental_s"), report.get("incremental_30d_s")
    rss, scale = report.get("peak_rss_bytes"), report.get("scale")
    rows = report.get("rows") or {}
    long_days, short_days = rows.get("event_days") or 365, rows.get("short_history_days") or 30
    pairs = report.get("incremental_ratio_pairs") or []
    # the median of the rounds' ratios (each round ran both nights back to back, on one machine state:
    # bench/run.py attempt_rounds) when there are any, else the ratio of the two reported nights
    growth = statistics.median(pairs) if pairs else _ratio(inc, inc30)
    growth_text = _fmt(growth, "x", 2) + (
        f" (median of {len(pairs)} rounds: " + ", ".join(_fmt(r, "x", 2) for r in pairs)
        + f"; the median nights: {_fmt(_ratio(inc, inc30), 'x', 2)})" if len(pairs) > 1 else "")
    targets = [
        Target("full rebuild vs read floor", f"{_fmt(full)} = {_fmt(_ratio(full, floor), 'x', 2)} floor ({_fmt(floor)})",
               f"<= {FULL_FLOOR_FACTOR}x floor + {FULL_FIXED_OVERHEAD_S:.0f}s"
               + (f" = {_fmt(FULL_FLOOR_FACTOR * floor + FULL_FIXED_OVERHEAD_S)}" if floor is not None else ""),
               None if full is None or floor is None else full <= FULL_FLOOR_FACTOR * floor + FULL_FIXED_OVERHEAD_S),
        Target("incremental night vs full rebuild", _fmt(_ratio(inc, full) and 100 * _ratio(inc, full), "%"),
               f"<= {INCREMENTAL_VS_FULL:.0%}", None if _ratio(inc, full) is None else inc <= INCREMENTAL_VS_FULL * full),
        Target(f"incremental night, {long_days} vs {short_days} days of history", growth_text,
               f"<= {INCREMENTAL_365_VS_30}x", None if growth is None else growth <= INCREMENTAL_365_VS_30),
    ]
    limit = PEAK_RSS_10X if scale is not None and scale > 1 else PEAK_RSS_BENCH
    targets.append(Target("peak RSS (process tree, full + incremental)", fmt_bytes(rss), f"<= {fmt_bytes(limit)}",
                          None if rss is None else rss <= limit))
    if scale is not None and scale > 1:
        base_full = (baseline or {}).get("full_s")
        growth = _ratio(full, base_full)
        bound = SCALE_10X_TIME * scale / 10
        targets.append(Target(f"full rebuild at scale {scale:g} vs scale 1",
                              _fmt(growth, "x", 2) if growth else "no scale-1 report", f"<= {bound:g}x",
                              None if growth is None else growth <= bound))
    return targets


def _attempts(run: dict) -> str:
    """`3: 74.1s, 76.0s, 81.9s` for a night run several times."""
    times = sorted(run["attempts_s"])
    return f"{len(times)}: " + ", ".join(_fmt(t) for t in times)


def asset_shares(per_asset_s: dict[str, float], top: int = TOP_ASSETS) -> list[tuple[str, float, float]]:
    """(asset or step, seconds, share of all step time), the `top` biggest first."""
    total = sum(per_asset_s.values())
    ranked = sorted(per_asset_s.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return [(name, secs, secs / total if total else 0.0) for name, secs in ranked]


def history_costs(report: dict, top: int = TOP_ASSETS) -> list[tuple[str, float, float]]:
    """(step, seconds in the long-history night, in the short-history night), the `top` steps that
    took longest over their short-history time first: where an incremental night still pays for
    history (per step the median over each night's attempts, else the reported attempt's time)."""
    runs = report.get("runs") or {}
    long, short = ((runs.get(phase) or {}).get("per_step_median_s") or (runs.get(phase) or {}).get("per_step_s") or {}
                   for phase in ("incremental", "incremental_30d"))
    if not long or not short:
        return []
    steps = sorted(set(long) | set(short), key=lambda step: short.get(step, 0.0) - long.get(step, 0.0))
    return [(step, long.get(step, 0.0), short.get(step, 0.0)) for step in steps[:top]]


def render_markdown(report: dict) -> str:
    """The table for the README's Performance section, the top assets, and the machine it ran on."""
    m, rows, runs = report["machine"], report.get("rows") or {}, report.get("runs") or {}
    lines = [
        f"Bench scale {report['scale']:g}: {rows.get('accounts') or 0:,} accounts, {rows.get('contacts') or 0:,} contacts, "
        f"{rows.get('events') or 0:,} web events over {rows.get('event_days') or 0} days "
        f"({fmt_bytes(report.get('input_bytes') or 0)} landed); run {report['date']}, commit "
        f"{(report['git'].get('commit') or '?')[:10]}{' (uncommitted changes)' if report['git'].get('dirty') else ''}.",
        "",
        "| measure | time | peak RSS | target | result |",
        "|---|---:|---:|---|---|",
        f"| read floor (DuckDB reads every landed file once) | {_fmt(report.get('floor_s'))} | | | |",
    ]
    long_days, short_days = rows.get("event_days"), rows.get("short_history_days")
    labels = {"full": f"full nightly rebuild ({long_days} days)",
              "incremental": f"incremental night ({long_days} days of history)",
              "full_30d": f"full nightly rebuild ({short_days} days)",
              "incremental_30d": f"incremental night ({short_days} days of history)"}
    for phase, label in labels.items():
        run = runs.get(phase)
        if run is None:
            lines.append(f"| {label} | not run | | | |")
            continue
        time_text = _fmt(run["wall_s"]) if run["ok"] else f"FAILED after {_fmt(run['wall_s'])}"
        if len(run.get("attempts_s") or []) > 1:
            time_text += f" (median of {_attempts(run)})"
        if run.get("load_avg_1m") is not None and run["load_avg_1m"] > m["cores"]:
            time_text += f" (machine load {run['load_avg_1m']:.1f} at start)"
        lines.append(f"| {label} | {time_text} | {fmt_bytes(run['peak_rss_bytes'])} | | |")
    for t in report["targets"]:
        lines.append(f"| {t['name']} | {t['measured']} | | {t['target']} | {t['status']} |")
    shares = asset_shares(report.get("per_asset_s") or {})
    if shares:
        lines += ["", "Where the full rebuild spends its time (top steps/assets, from the run's Dagster events):", "",
                  "| asset | time | share |", "|---|---:|---:|"]
        lines += [f"| `{name}` | {_fmt(secs)} | {share:.0%} |" for name, secs, share in shares]
    extra = history_costs(report)
    medians = ", each the median of the attempts" if (runs.get("incremental") or {}).get("per_step_median_s") else ""
    if extra:
        lines += ["", f"Where the incremental night pays for history (per step, {long_days} against {short_days} days "
                  f"of history{medians}; the {len(extra)} biggest differences):", "",
                  "| step | all history | short history | extra |", "|---|---:|---:|---:|"]
        lines += [f"| `{step}` | {_fmt(a)} | {_fmt(b)} | {a - b:+.1f}s |" for step, a, b in extra]
    by_step = sorted((report.get("peak_rss_by_step") or {}).items(), key=lambda kv: kv[1], reverse=True)[:5]
    if by_step:
        lines += ["", "Peak RSS of the process tree while each step of the full rebuild ran (top 5):", "",
                  "| step | peak RSS |", "|---|---:|"]
        lines += [f"| `{step}` | {fmt_bytes(rss)} |" for step, rss in by_step]
    lines += ["", f"Machine: {m['cores']} cores ({m['cpu_model']}), {fmt_bytes(m['memory_bytes'])} RAM, "
              f"Python {m['python']}, " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + "."]
    if report.get("errors"):
        lines += ["", "Errors:", *[f"- {e}" for e in report["errors"]]]
    return "\n".join(lines) + "\n"


def render_console(report: dict) -> str:
    """What `make bench` prints at the end: the ratios with their targets, per-asset shares, peak RSS."""
    out = [f"\nBench (scale {report['scale']:g}) -> {report.get('report_path', 'report.json')}"]
    out.append(f"  read floor              {_fmt(report.get('floor_s'))}")
    for phase in ("full", "incremental", "full_30d", "incremental_30d"):
        run = (report.get("runs") or {}).get(phase)
        if run:
            state = "" if run["ok"] else f"  FAILED: {run['error']}"
            state += f"  (load {run['load_avg_1m']:.1f} at start)" if run.get("load_avg_1m") is not None else ""
            state += f"  median of {_attempts(run)}" if len(run.get("attempts_s") or []) > 1 else ""
            out.append(f"  {phase:<22}  {_fmt(run['wall_s'])}  peak RSS {fmt_bytes(run['peak_rss_bytes'])}{state}")
    out.append("Targets:")
    out += [f"  [{t['status']:<4}] {t['name']}: {t['measured']} (target {t['target']})" for t in report["targets"]]
    shares = asset_shares(report.get("per_asset_s") or {})
    if shares:
        out.append("Full rebuild, top assets by time:")
        out += [f"  {share:5.1%}  {secs:8.1f}s  {name}" for name, secs, share in shares]
    by_step = sorted((report.get("peak_rss_by_step") or {}).items(), key=lambda kv: kv[1], reverse=True)[:5]
    if by_step:
        out.append("Full rebuild, peak RSS of the process tree while each step ran (top 5):")
        out += [f"  {fmt_bytes(rss):>9}  {step}" for step, rss in by_step]
    inc_shares = asset_shares(report.get("per_asset_incremental_s") or {}, top=5)
    if inc_shares:
        out.append("Incremental night (all history), top assets by time:")
        out += [f"  {share:5.1%}  {secs:8.1f}s  {name}" for name, secs, share in inc_shares]
    extra = history_costs(report, top=5)
    if extra:
        out.append("Incremental night, the steps that pay most for history (all history vs short history):")
        out += [f"  {a - b:+6.1f}s  {a:6.1f}s vs {b:5.1f}s  {step}" for step, a, b in extra]
    for err in report.get("errors") or []:
        out.append(f"ERROR: {err}")
    return "\n".join(out)
