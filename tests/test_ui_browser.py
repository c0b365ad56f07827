"""The Dagster UI in a real browser: what a user must see after a nightly run.

A module fixture generates a tiny sample, runs the nightly job once (`python -m workflows.cli run`,
all paths and DAGSTER_HOME in tmp) while `dagster dev` starts on a free loopback port against the same
instance, then headless Chromium (Debian's /usr/bin/chromium through Playwright) opens the asset
graph, a segment asset, an export asset's checks, the audience checks, the automation pages and the
runs page. Screenshots go to var/screenshots/ (git-ignored). The last test stops the server and
asserts that no process of it is left.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline_helpers import PipelineDirs, make_config, make_sample, run_nightly
from workflows.settings import REPO_ROOT
from workflows.ui_server import DagsterDev, descendants, free_port, group_processes, start_dagster_dev

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402 - after the skip

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAYERS = ("raw", "staging", "segments", "quality", "audiences", "exports", "readouts")
expect.set_options(timeout=20_000)  # a cold first page load compiles the asset graph


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> PipelineDirs:
    """Folders of one finished nightly run (destination minimums lowered to 1 so exports publish; the
    landing sensor off so the daemon starts no run of its own)."""
    root = tmp_path_factory.mktemp("ui")
    make_sample(root / "landing")
    return PipelineDirs.under(root / "run", root / "landing", make_config(root / "config", min_size=1))


@pytest.fixture(scope="module")
def server(pipeline: PipelineDirs):
    """`dagster dev` on a free port, started while the nightly run materialises the warehouse."""
    dev = start_dagster_dev(free_port(), env=pipeline.env(), log_path=pipeline.tmp.parent / "dagster-dev.log")
    try:
        run_nightly(pipeline)  # the server loads in parallel: it never opens the warehouse
        dev.wait_ready()
        yield dev
    finally:
        dev.stop()


@pytest.fixture(scope="module")
def browser() -> Browser:
    """Headless Debian Chromium (no browser download)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: DagsterDev) -> Page:
    """A fresh tab on the server."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1600, "height": 1000})
    yield context.new_page()
    context.close()


def shoot(page: Page, name: str) -> None:
    """Save what the user sees to var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def see(page: Page, *texts: str | re.Pattern) -> None:
    """Each text is visible somewhere on the page (names repeat in graph, sidebar and headers: first)."""
    for text in texts:
        expect(page.get_by_text(text).first).to_be_visible()


def row_count(pipeline: PipelineDirs, table: str) -> int:
    """Rows in a warehouse table (the number the UI must show)."""
    con = duckdb.connect(str(pipeline.warehouse), read_only=True)
    try:
        return con.table(table).aggregate("count(*)").fetchone()[0]
    finally:
        con.close()


def test_asset_graph_shows_every_layer(page: Page):
    page.goto("/asset-groups")
    see(page, "Global asset lineage")
    for layer in LAYERS:
        expect(page.get_by_text(layer, exact=True).first).to_be_visible()
    shoot(page, "asset_graph")


def test_segment_asset_page(page: Page, pipeline: PipelineDirs):
    page.goto("/assets/segments/contact_segments")
    see(page, "Latest materialization", "Row count", "One row per contact", "Owners", "Polars", "DuckDB")
    # the standard row-count metadata, equal to the table, and the column schema
    rows = row_count(pipeline, "segments.contact_segments")
    expect(page.get_by_text(f"{rows:,}", exact=True).or_(page.get_by_text(str(rows), exact=True)).first).to_be_visible()
    see(page, "persona_function", "content_interests", "VARCHAR[]")
    shoot(page, "segment_contact_segments")
    distribution = page.get_by_text("distribution/persona_function").first
    distribution.scroll_into_view_if_needed()
    expect(distribution).to_be_visible()
    see(page, "distribution/nurture_track", "marketing")
    shoot(page, "segment_contact_segments_metadata")


def test_export_asset_with_its_check(page: Page):
    page.goto("/assets/exports/upsell_decision_makers?view=checks")
    see(page, "Checks (1)", "all_destinations_published", "Passed", "non-blocking")
    shoot(page, "export_upsell_decision_makers_checks")
    page.goto("/assets/exports/upsell_decision_makers")
    see(page, "Latest materialization", "google_ads/status", "linkedin_companies/path", "destinations")
    expect(page.get_by_text("published", exact=True).first).to_be_visible()
    shoot(page, "export_upsell_decision_makers")


def test_audience_checks(page: Page):
    page.goto("/assets/audiences/members?view=checks")
    see(page, "consent_and_customer_rules", "members_expectations", "members_size_drift", "blocking asset check")
    shoot(page, "audience_members_checks")


def test_readout_asset_page(page: Page):
    page.goto("/assets/readouts/upsell_criteria_performance")
    see(page, "Latest materialization", "lift_by_criterion", "high_seat_utilization", "snapshots")
    shoot(page, "readout_upsell_criteria_performance")
    page.goto("/assets/readouts/report")
    see(page, "Latest materialization", "criteria_supported", "latest")
    shoot(page, "readout_report")


def test_schedule_and_sensor(page: Page):
    page.goto("/automation")
    see(page, "nightly_schedule", "At 02:00 AM UTC", "landing_files_sensor")
    shoot(page, "automation")
    page.goto("/locations/segmentation/schedules/nightly_schedule")
    see(page, "(0 2 * * *)", "Execution timezone", "config/pipeline.yaml")
    shoot(page, "schedule_nightly")
    page.goto("/locations/segmentation/sensors/landing_files_sensor")
    see(page, "Starts the nightly job when new or changed files appear", "Cursor", "~1 min")
    shoot(page, "sensor_landing_files")


def test_runs_and_daemons(page: Page):
    page.goto("/runs")
    see(page, "trigger: cli", "Success")
    shoot(page, "runs")
    page.goto("/deployment/daemons")
    see(page, "Scheduler", "Sensors", "Run queue")
    shoot(page, "daemons")


def test_server_stops_without_stray_processes(server: DagsterDev):
    """Last in the file: SIGTERM to the group stops webserver, daemon and code server, nothing is left."""
    children = descendants(server.pgid)
    assert children, "dagster dev should run a webserver, a daemon and a code server below it"
    assert server.stop(), f"dagster dev needed SIGKILL to stop:\n{server.log_tail()}"
    assert group_processes(server.pgid) == []
    assert [pid for pid in children if alive(pid)] == []


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (pids are not reused within seconds on Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"
