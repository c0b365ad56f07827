"""The Dagster asset checks: thin wiring around the suites, drift and event monitors.

- `<table>_expectations` (BLOCKING, severity ERROR) for every table in CHECKED_TABLES: runs the
  table's GX suite (over the rows rebuilt since it last passed, for a `limit_to_rebuilt` suite); when
  it fails, the assets downstream of that table do not run in this run, so audiences and exports keep
  what they last published.
- `web_events_freshness` (BLOCKING) on raw.web_events: the newest event day and the newest CRM contact
  update against the data date (today's UTC date for an undated run).
- `web_events_daily_volume` (WARN, not blocking) on raw.web_events.
- `suppressions_not_lost` (BLOCKING) on staging.suppressions: the suppression list did not vanish or
  shrink below the configured share of the last successful run's (data_quality/suppression_monitor.py).
- `<table>_size_drift` (WARN, not blocking) for every checked table whose suite lists drift_dimensions,
  against the last successful run (data_quality/passed_nights.py).

Only tables listed here get checks. A check on an asset key the Definitions do not hold would add an
unmaterialisable placeholder asset, so a table joins CHECKED_TABLES when its asset exists (a written
suite can wait in PENDING_TABLES meanwhile).
"""

import time

from dagster import (
    AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetChecksDefinition, AssetKey,
    MetadataValue, asset_check,
)

from assets.data_date import freshness_reference_date, resolve_data_date
from assets.metadata import distribution_md
from data_quality import suppression_monitor
from data_quality.drift import record_and_compare
from data_quality.event_monitors import (
    crm_freshness, crm_freshness_verdict, daily_event_counts, freshness_verdict, newest_event_date, volume_verdict,
)
from data_quality.quality_config import load_quality_config
from data_quality.rebuilt_rows import mark_checked
from data_quality.suites import load_suite, load_suite_for, suite_path
from data_quality.value_sets import RunValues
from workflows.resources import Folders, Warehouse

# The one place that decides which tables are checked (suite: data_quality/suites/<table>.yaml).
CHECKED_TABLES: tuple[str, ...] = (
    "raw.accounts",
    "raw.contacts",
    "raw.opportunities",
    "raw.subscriptions",
    "raw.web_events",
    "staging.accounts",
    "staging.contacts",
    "staging.opportunities",
    "staging.subscriptions",
    "staging.sessions",
    "segments.account_segments",
    "segments.contact_segments",
    "audiences.members",
)
# Suites written but not wired (their asset does not exist yet): move a table up when it does.
PENDING_TABLES: tuple[str, ...] = ()

WEB_EVENTS = AssetKey(["raw", "web_events"])
RAW_CONTACTS = AssetKey(["raw", "contacts"])
SUPPRESSIONS = AssetKey(["staging", "suppressions"])


def _key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def build_expectation_check(table: str) -> AssetChecksDefinition:
    """A blocking check that validates `table` with its GX suite and links the HTML report."""
    schema, name = table.split(".")
    # Parsed at load time (without importing GX) so a broken suite file stops the code location with
    # an error naming the file; re-read at run time so an edited suite applies to the next run.
    load_suite(suite_path(table), check_gx=False)

    @asset_check(
        asset=_key(table),
        name=f"{name}_expectations",
        blocking=True,
        description=f"Great Expectations suite data_quality/suites/{table}.yaml: keys, accepted values, "
                    "formats, timestamps, references and shares. Blocks downstream assets when it fails.",
    )
    def _expectations(context: AssetCheckExecutionContext, warehouse: Warehouse, folders: Folders) -> AssetCheckResult:
        from data_quality.gx_validate import validate_table  # deferred: importing GX costs seconds
        from data_quality.validation_report import failures_markdown

        suite = load_suite_for(table)
        quality = load_quality_config(folders.config)
        with warehouse.connect() as con:
            as_of = resolve_data_date(con, context.run.tags)
            result = validate_table(con, suite, RunValues(as_of, quality, folders.config), folders.reports)
            if result.success and suite.limit_to_rebuilt:
                mark_checked(con, table)   # a failure keeps the rebuilt rows queued for the next night
        if not result.success:
            context.log.warning(f"{table}: {len(result.failed)} expectation(s) failed; report: {result.report_path}")
        return AssetCheckResult(
            passed=result.success,
            severity=AssetCheckSeverity.ERROR,
            description=f"{len(result.expectations) - len(result.failed)} of {len(result.expectations)} expectations passed",
            metadata={
                "failed_expectations": MetadataValue.md(failures_markdown(result)),
                "report": MetadataValue.path(str(result.report_path)),
                "dagster/row_count": MetadataValue.int(result.table_rows),
                "rows_checked": MetadataValue.int(result.rows_checked),
                "rows_checked_scope": MetadataValue.text(result.scope),
                "expectations_failed": MetadataValue.int(len(result.failed)),
                "data_date": MetadataValue.text(str(result.data_date)),
                "seconds": MetadataValue.float(round(result.seconds, 2)),
            },
        )

    return _expectations


def build_drift_check(table: str, dimensions: tuple[str, ...]) -> AssetChecksDefinition:
    """A warning check comparing segment sizes per dimension with the last successful run: the newest
    earlier night whose run passed its blocking checks (a blocked night is never the baseline; a re-run
    of a night compares with the night before)."""
    schema, name = table.split(".")

    @asset_check(
        asset=_key(table),
        name=f"{name}_size_drift",
        blocking=False,
        description=f"Segment sizes per {', '.join(dimensions)} against the last successful run (the newest earlier "
                    "night that passed its blocking checks); warns on a change beyond config/quality.yaml "
                    "drift.max_change_percent.",
    )
    def _drift(context: AssetCheckExecutionContext, warehouse: Warehouse, folders: Folders) -> AssetCheckResult:
        from assets.metadata import frame_md

        quality = load_quality_config(folders.config)
        with warehouse.connect() as con:
            as_of = resolve_data_date(con, context.run.tags)
            outcome = record_and_compare(con, table, list(dimensions), context.run.run_id, as_of,
                                         quality.drift_max_change_percent, quality.drift_min_segment_size)
        drifted = outcome.drifted
        metadata = {
            "data_date": MetadataValue.text(str(as_of)),
            "previous_run_id": MetadataValue.text(outcome.previous_run_id or "none (no earlier successful run)"),
            "previous_data_date": MetadataValue.text(str(outcome.previous_data_date or "")),
            "segments_drifted": MetadataValue.int(drifted.height),
            "drifted_segments": MetadataValue.md(frame_md(drifted.drop("drifted")) if drifted.height else "(none)"),
        }
        for dimension in dimensions:
            sizes = outcome.comparison.filter(dimension=dimension) if outcome.has_baseline else None
            if sizes is not None and sizes.height:
                metadata[f"sizes/{dimension}"] = distribution_md(sizes.select("value", "n"), "value", "n")
        if not outcome.has_baseline:
            description = ("No earlier night passed its blocking checks: sizes recorded; they become the "
                           "baseline once this night passes.")
        elif drifted.height:
            description = (f"{drifted.height} segment(s) changed by more than {quality.drift_max_change_percent:g}% "
                           f"since the last successful run {outcome.previous_run_id} ({outcome.previous_data_date}).")
        else:
            description = f"No segment changed by more than {quality.drift_max_change_percent:g}%."
        return AssetCheckResult(passed=drifted.height == 0, severity=AssetCheckSeverity.WARN,
                                description=description, metadata=metadata)

    return _drift


def build_web_event_checks() -> list[AssetChecksDefinition]:
    """Freshness (blocking) and daily volume (warning) of raw.web_events. Built by a function, not at
    module level, so the package loader finds each check once (through `quality_checks`)."""

    @asset_check(
        asset=WEB_EVENTS,
        name="web_events_freshness",
        blocking=True,
        # Reads raw.contacts too (the CRM signal): run after it.
        additional_deps=[RAW_CONTACTS],
        description="The newest landed web-event day is at most config/quality.yaml freshness.max_age_days, and "
                    "the newest CRM contact update at most freshness.crm_max_age_days, before the run's data "
                    "date (today's UTC date for a run without one). Blocks downstream assets when stale.",
    )
    def web_events_freshness(context: AssetCheckExecutionContext, warehouse: Warehouse, folders: Folders) -> AssetCheckResult:
        """Fails (blocking) when web events or CRM snapshots have stopped landing."""
        quality = load_quality_config(folders.config)
        reference, kind = freshness_reference_date(context.run.tags)
        with warehouse.connect() as con:
            web = freshness_verdict(newest_event_date(con), reference, quality.freshness_max_age_days, kind)
            signals = crm_freshness(con)
        newest_update = signals.newest_update.date() if signals.newest_update else None
        crm = crm_freshness_verdict(newest_update, reference, quality.crm_freshness_max_age_days, kind)
        failed = [v for v in (web, crm) if not v.passed]
        return AssetCheckResult(
            passed=not failed,
            severity=AssetCheckSeverity.ERROR,
            description=" ".join(v.message for v in (failed or [web, crm])),
            metadata={
                "newest_event_date": MetadataValue.text(str(web.newest)),
                "reference_date": MetadataValue.text(str(reference)),
                "reference": MetadataValue.text(kind),
                "age_days": MetadataValue.int(web.age_days if web.age_days is not None else -1),
                "max_age_days": MetadataValue.int(web.max_age_days),
                "crm_newest_contact_update": MetadataValue.text(str(signals.newest_update or "none")),
                "crm_age_days": MetadataValue.int(crm.age_days if crm.age_days is not None else -1),
                "crm_max_age_days": MetadataValue.int(crm.max_age_days),
                "crm_newest_file_mtime": MetadataValue.text(str(signals.newest_file_mtime or "none")),
            },
        )

    @asset_check(
        asset=WEB_EVENTS,
        name="web_events_daily_volume",
        blocking=False,
        description="The newest day's web-event count against the median of the previous days "
                    "(config/quality.yaml event_volume); warns outside the tolerance.",
    )
    def web_events_daily_volume(context: AssetCheckExecutionContext, warehouse: Warehouse, folders: Folders) -> AssetCheckResult:
        """Warns when a day's event volume is far from the usual."""
        started = time.perf_counter()
        quality = load_quality_config(folders.config)
        with warehouse.connect() as con:
            as_of = resolve_data_date(con, context.run.tags)
            counts = daily_event_counts(con, as_of, quality.volume_baseline_days)
        verdict = volume_verdict(counts, quality.volume_tolerance_percent, quality.volume_min_baseline_days)
        return AssetCheckResult(
            passed=not verdict.anomalous,
            severity=AssetCheckSeverity.WARN,
            description=verdict.message,
            metadata={
                "day": MetadataValue.text(str(verdict.day)),
                "events": MetadataValue.int(verdict.n or 0),
                "baseline_median": MetadataValue.float(float(verdict.baseline_median or 0)),
                "change_percent": MetadataValue.float(float(verdict.change_percent or 0)),
                "daily_counts": distribution_md(counts.with_columns(counts["event_date"].cast(str)), "event_date", "n"),
                "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
            },
        )

    return [web_events_freshness, web_events_daily_volume]


def build_suppression_check() -> AssetChecksDefinition:
    """Blocking: the suppression list did not go missing or shrink below the configured share of the
    last successful run's (a missing optional file would otherwise un-suppress everyone)."""

    @asset_check(
        asset=SUPPRESSIONS,
        name="suppressions_not_lost",
        blocking=True,
        description="staging.suppressions holds at least config/quality.yaml "
                    "suppressions.min_share_of_previous_percent of the last successful run's suppressed emails, "
                    "and crm/suppressions.csv is still there once one was loaded. Blocks downstream assets.",
    )
    def suppressions_not_lost(context: AssetCheckExecutionContext, warehouse: Warehouse, folders: Folders) -> AssetCheckResult:
        """Fails (blocking) when the suppression file vanished or lost most of its rows."""
        from assets.raw.crm_load import crm_file  # where the raw load looks for the file

        quality = load_quality_config(folders.config)
        # Presence is read from the landing folder: raw.suppressions is emptied alike for a missing
        # and a header-only file, and raw.load_log keeps the last load's row when the file is gone.
        present = crm_file(folders.landing, "suppressions").is_file()
        with warehouse.connect() as con:
            as_of = resolve_data_date(con, context.run.tags)
            verdict = suppression_monitor.record_and_compare(
                con, context.run.run_id, as_of, present, quality.suppressions_min_share_percent)
        if not verdict.passed:
            context.log.warning(verdict.message)
        return AssetCheckResult(
            passed=verdict.passed,
            severity=AssetCheckSeverity.ERROR,
            description=verdict.message,
            metadata={
                "suppressed_emails": MetadataValue.int(verdict.n),
                "file_present": MetadataValue.bool(verdict.file_present),
                "previous_suppressed_emails": MetadataValue.int(verdict.previous_n if verdict.previous_n is not None else -1),
                "previous_data_date": MetadataValue.text(str(verdict.previous_date or "none (no earlier successful run)")),
                "min_share_of_previous_percent": MetadataValue.float(float(verdict.min_share_percent)),
                "data_date": MetadataValue.text(str(as_of)),
            },
        )

    return suppressions_not_lost


def build_quality_checks(tables: tuple[str, ...] = CHECKED_TABLES) -> list[AssetChecksDefinition]:
    """Every check for `tables`: expectations for each, drift where the suite names dimensions, the
    web-event monitors when raw.web_events is among them, and the suppression check when
    staging.contacts is (the list it keeps from being exported)."""
    checks: list[AssetChecksDefinition] = []
    for table in tables:
        checks.append(build_expectation_check(table))
        dimensions = load_suite(suite_path(table), check_gx=False).drift_dimensions
        if dimensions:
            checks.append(build_drift_check(table, dimensions))
    if "raw.web_events" in tables:
        checks += build_web_event_checks()
    if "staging.contacts" in tables:
        checks.append(build_suppression_check())
    return checks


# Collected by `load_asset_checks_from_package_module(data_quality)` in workflows/definitions.py.
quality_checks: list[AssetChecksDefinition] = build_quality_checks()
