"""The readouts as people read them: Markdown for the Dagster UI and one self-contained HTML page per
night (`<reports>/readouts/<data_date>.html` and `latest.html`). Pure functions plus one file writer."""
from __future__ import annotations

import datetime as dt
import html
import math
import os
from pathlib import Path

import polars as pl

CAVEATS = (
    "Criteria are evaluated point-in-time: the features of each snapshot use only events, subscriptions and "
    "opportunities dated before the end of the snapshot day (personas come from today's job titles).",
    "Account-snapshots are pooled: the same account appears once per monthly snapshot, so the observations are "
    "not independent (repeated measures) and the intervals and p-values are somewhat optimistic.",
    "A success is an upsell opportunity created after the snapshot and won within the outcome window; upsells "
    "already open at the snapshot do not count.",
    "growing_usage compares with a 30-day window 90 days earlier; snapshots with less than 120 days of event "
    "history before them overstate growth.",
    "Audience lift compares members randomised by a stable hash (treatment vs holdout) whose outcome window has "
    "ended. With account matching, holdout contacts share their account's deals with treated colleagues: the "
    "measured lift is a lower bound.",
)


def _num(value: float | None, digits: int = 2, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f}%" if percent else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None, percent: bool = False, digits: int = 2) -> str:
    if low is None or high is None:
        return ""
    return f"[{_num(low, digits, percent)}, {_num(high, digits, percent)}]"


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def _estimate(point: float | None, low: float | None, high: float | None, percent: bool = False) -> str:
    """`2.75 [2.21, 3.42]`, or a single dash when there is no estimate."""
    if point is None:
        return "–"
    return f"{_num(point, percent=percent)} {_interval(low, high, percent=percent)}".rstrip()


def _text_bar(lift: float | None, width: int = 20, top: float = 4.0) -> str:
    """A bar of length proportional to the lift (1.0 marked with |), capped at `top`."""
    if lift is None:
        return ""
    filled = round(width * min(lift, top) / top)
    one = round(width / top)
    bar = ["█" if i < filled else " " for i in range(width)]
    bar[min(one, width - 1)] = "|" if bar[min(one, width - 1)] == " " else "▌"
    return "".join(bar).rstrip()


def criteria_md(table: pl.DataFrame) -> str:
    """Criteria performance as a Markdown table: verdict, lift with its CI and a text bar, rates, n."""
    if table.is_empty():
        return "(no criteria evaluated)"
    lines = ["| criterion | verdict | lift [CI] | lift bar (\\| = 1×) | success rate | baseline | flagged / n | p |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    for r in table.iter_rows(named=True):
        lines.append(
            f"| {r['criterion']} | {r['verdict']} | {_estimate(r['lift'], r['lift_ci_low'], r['lift_ci_high'])} "
            f"| `{_text_bar(r['lift'])}` | {_num(r['success_rate'], percent=True)} | {_num(r['baseline_rate'], percent=True)} "
            f"| {r['n_flagged']:,} / {r['n']:,} | {_p(r['p_value'])} |"
        )
    return "\n".join(lines)


def lift_md(table: pl.DataFrame) -> str:
    """Audience lift as a Markdown table."""
    if table.is_empty():
        return "No audience published yet: nothing to compare."
    lines = ["| audience | verdict | treatment | holdout | abs lift [CI] | rel lift [CI] | p | why |",
             "|---|---|---:|---:|---|---:|---:|---|"]
    for r in table.iter_rows(named=True):
        lines.append(
            f"| {r['audience']} | {r['verdict']} | {r['conversions_treatment']}/{r['n_treatment']} "
            f"({_num(r['rate_treatment'], percent=True)}) | {r['conversions_holdout']}/{r['n_holdout']} "
            f"({_num(r['rate_holdout'], percent=True)}) "
            f"| {_estimate(r['abs_lift'], r['diff_ci_low'], r['diff_ci_high'], percent=True)} "
            f"| {_estimate(r['rel_lift'], r['rel_lift_ci_low'], r['rel_lift_ci_high'], percent=True)} "
            f"| {_p(r['p_value'])} | {r['reason']} |"
        )
    return "\n".join(lines)


def _svg_interval(point: float | None, low: float | None, high: float | None, top: float) -> str:
    """A small inline SVG: the CI as a line, the estimate as a dot, a dashed line at 1x."""
    width, pad = 240, 6
    x = lambda v: pad + (width - 2 * pad) * min(max(v, 0.0), top) / top  # noqa: E731
    parts = [f'<svg width="{width}" height="18" role="img" aria-label="lift and interval">',
             f'<line x1="{x(1):.1f}" y1="1" x2="{x(1):.1f}" y2="17" stroke="#999" stroke-dasharray="2,2"/>']
    if low is not None and high is not None:
        parts.append(f'<line x1="{x(low):.1f}" y1="9" x2="{x(high):.1f}" y2="9" stroke="#2b6cb0" stroke-width="3"/>')
    if point is not None:
        parts.append(f'<circle cx="{x(point):.1f}" cy="9" r="4" fill="#1a365d"/>')
    return "".join(parts) + "</svg>"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data_date: dt.date, criteria: pl.DataFrame, lift: pl.DataFrame, snapshots: list[dt.date]) -> str:
    """The nightly readout page (self-contained: inline CSS and SVG, no scripts, no external files)."""
    e = lambda v: html.escape("" if v is None else str(v))  # noqa: E731
    top = max([4.0] + [v for v in criteria["lift_ci_high"].to_list() if v is not None and math.isfinite(v)]) if criteria.height else 4.0
    top = min(top, 10.0)
    window = criteria["outcome_window_days"][0] if criteria.height else None
    crit_rows = [[
        f"<b>{e(r['criterion'])}</b><br><small>{e(r['description'])}</small>",
        f'<span class="v {e(r["verdict"]).replace(" ", "-")}">{e(r["verdict"])}</span><br><small>{e(r["reason"])}</small>',
        f"{_estimate(r['lift'], r['lift_ci_low'], r['lift_ci_high'])}<br>"
        f"{_svg_interval(r['lift'], r['lift_ci_low'], r['lift_ci_high'], top)}",
        _estimate(r["success_rate"], r["ci_low"], r["ci_high"], percent=True),
        f"{_num(r['baseline_rate'], percent=True)}",
        _estimate(r["abs_diff"], r["diff_ci_low"], r["diff_ci_high"], percent=True),
        html.escape(_p(r["p_value"])), f"{_num(r['precision'], percent=True)} / {_num(r['recall'], percent=True)}",
        f"{r['successes_flagged']:,}/{r['n_flagged']:,} vs {r['successes_unflagged']:,}/{r['n_unflagged']:,}",
    ] for r in criteria.iter_rows(named=True)]
    lift_rows = [[
        f"<b>{e(r['audience'])}</b><br><small>{e(r['outcome'])}</small>",
        f'<span class="v {e(r["verdict"]).replace(" ", "-")}">{e(r["verdict"])}</span><br><small>{e(r["reason"])}</small>',
        f"{r['conversions_treatment']:,}/{r['n_treatment']:,} ({_num(r['rate_treatment'], percent=True)})",
        f"{r['conversions_holdout']:,}/{r['n_holdout']:,} ({_num(r['rate_holdout'], percent=True)})",
        _estimate(r["abs_lift"], r["diff_ci_low"], r["diff_ci_high"], percent=True),
        _estimate(r["rel_lift"], r["rel_lift_ci_low"], r["rel_lift_ci_high"], percent=True),
        html.escape(_p(r["p_value"])),
        f"{r['members_treatment']:,} / {r['members_holdout']:,}",
    ] for r in lift.iter_rows(named=True)]
    snap_text = ", ".join(d.isoformat() for d in snapshots) or "none yet (not enough history for a complete outcome window)"
    criteria_html = _table(
        ["criterion", "verdict", "lift [CI]", "success rate [CI]", "baseline", "difference [CI]", "p",
         "precision / recall", "successes/n flagged vs unflagged"], crit_rows) if crit_rows else "<p>No criteria evaluated.</p>"
    lift_html = _table(
        ["audience", "verdict", "treatment", "holdout", "abs lift [CI]", "rel lift [CI]", "p", "members (T / H)"],
        lift_rows) if lift_rows else "<p>No audience published yet: nothing to compare.</p>"
    caveats = "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Readouts {data_date.isoformat()}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1a202c;max-width:1200px}}
table{{border-collapse:collapse;margin:1rem 0;font-size:.9rem}}th,td{{border-bottom:1px solid #e2e8f0;padding:.4rem .6rem;
text-align:left;vertical-align:top}}th{{background:#f7fafc}}small{{color:#4a5568}}
.v{{font-weight:600;padding:0 .3rem;border-radius:3px}}.supported,.significant-lift{{background:#c6f6d5}}
.not-supported,.no-significant-difference,.significant-drop{{background:#fed7d7}}
.not-enough-data,.not-enough-data-yet{{background:#edf2f7}}
</style></head><body>
<h1>Readouts for {data_date.isoformat()}</h1>
<h2>Upsell criteria: success within {e(window)} days of a snapshot</h2>
<p>Snapshots: {html.escape(snap_text)}. Customers at each snapshot; flagged vs unflagged customers.
Lift = success rate / baseline rate; the dashed line is 1× (no effect).</p>
{criteria_html}
<h2>Audience lift: treatment vs holdout</h2>
{lift_html}
<h2>How to read this</h2><ul>{caveats}</ul>
</body></html>
"""


def write_report(folder: Path, data_date: dt.date, page: str) -> tuple[Path, Path]:
    """Write `<folder>/<data_date>.html` and `<folder>/latest.html` (each replaced atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"{data_date.isoformat()}.html", folder / "latest.html")
    for path in paths:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    return paths
