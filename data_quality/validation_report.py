"""How a validation reads: a small HTML page per table and data date, and a Markdown table for the UI.

The page is self-contained (no scripts, no external files) so it opens from `var/reports/` in any
browser and can be attached to a ticket. Every value on it has already been masked by the runner.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_quality.gx_validate import ExpectationResult, ValidationResult

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1f2933;max-width:1200px}
h1{font-size:1.4rem;margin-bottom:.2rem} .meta{color:#52606d;margin-top:0}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:600}
.pass{background:#e3f9e5;color:#1f7a33} .fail{background:#ffe3e3;color:#a61b1b}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fff5f5} code{font-size:.85rem} ul{margin:0;padding-left:1.1rem}
"""


def report_path(report_dir: Path, table: str, data_date: object) -> Path:
    """`<report_dir>/validation/<schema.table>/<data_date>.html`."""
    return Path(report_dir) / "validation" / table / f"{data_date}.html"


def _number(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:.2f}%" if percent else f"{value:,}"


def _row(e: "ExpectationResult") -> str:
    cls = "" if e.success else ' class="failed"'
    verdict = '<span class="verdict pass">pass</span>' if e.success else '<span class="verdict fail">FAIL</span>'
    examples = "".join(f"<li><code>{html.escape(x)}</code></li>" for x in e.examples)
    check = html.escape(e.check) + (f"<br><small>GX {html.escape(e.gx_type)}</small>" if e.gx_type != e.check else "")
    return (
        f"<tr{cls}><td>{verdict}</td><td>{check}</td><td>{html.escape(e.column or '')}</td>"
        f"<td class=num>{_number(e.unexpected_count)}</td><td class=num>{_number(e.unexpected_percent, True)}</td>"
        f"<td><ul>{examples}</ul></td><td>{html.escape(e.detail)}</td></tr>"
    )


def render_html(result: "ValidationResult") -> str:
    """The report page for one validation."""
    verdict = "passed" if result.success else f"FAILED ({len(result.failed)} of {len(result.expectations)})"
    cls = "pass" if result.success else "fail"
    # Failures first: the reader opened the page because something failed.
    rows = "\n".join(_row(e) for e in sorted(result.expectations, key=lambda e: e.success))
    title = f"{result.table} on {result.data_date}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data checks: {html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>Data checks: <code>{html.escape(result.table)}</code></h1>
<p class="meta">Data date {result.data_date} · suite <code>data_quality/suites/{html.escape(result.suite_file)}</code>
 · {result.rows_checked:,} rows checked of {result.table_rows:,} ({html.escape(result.scope)}) · {result.seconds:.2f} s · Great Expectations (pandas)</p>
<p><span class="verdict {cls}">{verdict}</span></p>
<table><thead><tr><th></th><th>expectation</th><th>column</th><th>unexpected</th><th>unexpected %</th>
<th>examples (masked)</th><th>expected</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="meta">Unexpected % is GX's: of the non-null values for value checks, of all rows for null checks.
Emails and phone numbers are masked.</p>
</body></html>
"""


def write_html_report(result: "ValidationResult", report_dir: Path) -> Path:
    """Write the page and return its path."""
    path = report_path(report_dir, result.table, result.data_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result), encoding="utf-8")
    return path


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def failures_markdown(result: "ValidationResult") -> str:
    """The failed expectations as a Markdown table (what the Dagster UI shows on the check)."""
    if not result.failed:
        return f"All {len(result.expectations)} expectations passed."
    lines = ["| expectation | column | unexpected | unexpected % | examples (masked) | expected |",
             "|---|---|---:|---:|---|---|"]
    for e in result.failed:
        lines.append(
            f"| {_md_cell(e.check)} | {_md_cell(e.column or '')} | {_number(e.unexpected_count)} | "
            f"{_number(e.unexpected_percent, True)} | {_md_cell('; '.join(e.examples))} | {_md_cell(e.detail)} |"
        )
    return "\n".join(lines)
