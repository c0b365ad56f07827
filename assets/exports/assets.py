"""Export assets: one per audience in `config/audiences.yaml`, built by a factory, plus the two tables
they write (`audiences.memberships`, `audiences.publish_log`) as assets that report them.

Each export asset `exports/<audience with - as _>` renders the audience's treatment members for each
of its destinations and publishes the files under `EXPORT_DIR/<audience>/<destination>/` (atomic,
unchanged lists not re-published; see assets/exports/publish_files.py). Each manifest.json records the
run's results of the blocking checks upstream of the export (`check_results`). The logic is in
assets/audiences/publication.py; this module is wiring and metadata.

The asset list follows the audience file when the code location loads (`SEGMENTATION_CONFIG_DIR` or
`config/`); at run time each asset re-reads its audience from the `folders` resource's config folder, so
an edited filter or destination list applies at the next run (a new or renamed audience needs a reload).
"""
# No `from __future__ import annotations`: Dagster reads the context type hint at definition time.
from pathlib import Path

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.audiences.definitions import CONFIG_FILE, AudienceDefinition, find_audience, load_audiences
from assets.audiences.publication import AudiencePublication, publish_audience
from assets.config_files import config_path
from assets.data_date import resolve_data_date
from assets.exports.destinations import load_destinations
from assets.exports.publish_files import FilesystemPublisher
from assets.metadata import distribution_md, frame_md, table_metadata
from assets.sql_files import run_sql
from data_quality.passed_nights import mark_night_passed
from workflows.resources import Folders, Warehouse
from workflows.settings import Settings

MEMBERS_KEY = AssetKey(["audiences", "members"])
MEMBERSHIPS_KEY = AssetKey(["audiences", "memberships"])
PUBLISH_LOG_KEY = AssetKey(["audiences", "publish_log"])
SIZE_CHECK = "all_destinations_published"


def export_key(audience: AudienceDefinition) -> AssetKey:
    """`["exports", <audience name with - replaced by _>]`."""
    return AssetKey(["exports", audience.asset_name])


def publication_metadata(result: AudiencePublication, folder: Path) -> dict:
    """What the UI shows for one publish: sizes, per destination status/rows/adds/removes/path."""
    metadata = {
        "audience_size": MetadataValue.int(result.audience_size),
        "treatment_size": MetadataValue.int(result.treatment_size),
        "holdout_size": MetadataValue.int(result.holdout_size),
        "exported_members": MetadataValue.int(result.exported_members),
        "data_date": MetadataValue.text(result.data_date.isoformat()),
        "path": MetadataValue.path(str(folder)),
        "publish_log_rows_added": MetadataValue.int(result.logged_rows),
    }
    table = pl.DataFrame(
        [{"destination": o.destination, "status": o.status, "rows": o.rows, "adds": o.adds,
          "removes": o.removes, "publish_id": o.publish_id or "", "reason": o.reason or ""}
         for o in result.outcomes],
        schema={"destination": pl.String, "status": pl.String, "rows": pl.Int64, "adds": pl.Int64,
                "removes": pl.Int64, "publish_id": pl.String, "reason": pl.String},
    )
    metadata["destinations"] = MetadataValue.md(frame_md(table))
    for o in result.outcomes:
        metadata[f"{o.destination}/status"] = MetadataValue.text(o.status)
        metadata[f"{o.destination}/rows"] = MetadataValue.int(o.rows)
        metadata[f"{o.destination}/adds"] = MetadataValue.int(o.adds)
        metadata[f"{o.destination}/removes"] = MetadataValue.int(o.removes)
        if o.reason:
            metadata[f"{o.destination}/reason"] = MetadataValue.text(o.reason)
        if o.path:
            metadata[f"{o.destination}/path"] = MetadataValue.path(str(o.path))
    return metadata


def check_summary(evaluation, report_dir: Path) -> dict:
    """One check's entry in manifest.json: asset, check, passed, severity and, when the check wrote
    one, its HTML report relative to REPORT_DIR (an absolute path would name this machine's folders
    and make identical publishes differ between installations)."""
    entry = {
        "asset": evaluation.asset_key.to_user_string(),
        "check": evaluation.check_name,
        "passed": bool(evaluation.passed),
        "severity": evaluation.severity.value,
    }
    report = evaluation.metadata.get("report")
    if report is not None and report.value:
        path = Path(str(report.value))
        entry["report"] = path.relative_to(report_dir).as_posix() if path.is_relative_to(report_dir) else str(path)
    return entry


def upstream_blocking_check_results(context: AssetExecutionContext, report_dir: Path) -> dict:
    """This run's results of the blocking checks on the assets upstream of this export, keyed
    `<asset>:<check>` (sorted). Dagster only starts the export when all of them passed, so the
    manifest records what the published rows were held to. Read from the run's event log: the
    checks ran earlier in this same run."""
    upstream = context.job_def.asset_layer.asset_graph.get_ancestor_asset_keys(context.asset_key)
    records = context.instance.get_records_for_run(
        context.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    results = {}
    for record in records:  # in event order: a retried check's last result wins
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.blocking and evaluation.asset_key in upstream:
            results[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = check_summary(
                evaluation, report_dir)
    return dict(sorted(results.items()))


def build_export_asset(audience: AudienceDefinition) -> AssetsDefinition:
    """The export asset of one audience (see the module docstring), with a WARN check that fails when a
    destination was skipped for being below its minimum size."""
    key = export_key(audience)
    destinations = ", ".join(audience.destinations)

    @asset(
        key=key,
        group_name="exports",
        kinds={"polars", "duckdb"},
        deps=[MEMBERS_KEY, AssetKey(["staging", "contacts"]), AssetKey(["staging", "accounts"])],
        description=(
            f"{audience.description}\n\nFiles of audience `{audience.name}` ({audience.kind}) for {destinations}: "
            "one row per treatment member (per account for linkedin_companies), under "
            f"`EXPORT_DIR/{audience.name}/<destination>/latest`. From audiences.members (treatment group) with "
            "staging.contacts and staging.accounts. Writes audiences.publish_log and audiences.memberships."
        ),
        check_specs=[
            AssetCheckSpec(
                SIZE_CHECK, asset=key,
                description="WARN when a destination (or the whole audience) was below its minimum size and "
                            "was skipped; the reason is in the publish log and the asset metadata.",
            )
        ],
    )
    def _export(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
        # The audience as the config says now (a filter or destination edit applies without a reload).
        current = find_audience(load_audiences(folders.config), audience.name, config_path(CONFIG_FILE, folders.config))
        publisher = FilesystemPublisher(folders.exports)
        check_results = upstream_blocking_check_results(context, folders.reports)
        with warehouse.connect() as con:
            data_date = resolve_data_date(con, context.run.tags)
            # This asset only runs when every blocking check upstream of it passed: the night is a
            # baseline for tomorrow's drift and suppression checks (data_quality/passed_nights.py).
            mark_night_passed(con, data_date, context.run_id)
            result = publish_audience(
                con, current, load_destinations(folders.config), publisher, run_id=context.run_id, data_date=data_date,
                check_results=check_results,
            )
        for o in result.outcomes:
            context.log.info("%s -> %s: %s %s", audience.name, o.destination, o.status, o.reason or "")
        if result.failed:
            failed = "; ".join(f"{o.destination}: {o.reason}" for o in result.failed)
            raise Failure(
                description=f"audience {audience.name}: publishing failed for {failed} (logged in "
                            "audiences.publish_log; the other destinations were published)",
                metadata=publication_metadata(result, folders.exports / audience.name),
            )
        skipped = [o for o in result.outcomes if o.skipped_for_size]
        check = AssetCheckResult(
            check_name=SIZE_CHECK, asset_key=key, passed=not skipped, severity=AssetCheckSeverity.WARN,
            metadata={"skipped": MetadataValue.md(
                "\n".join(f"- {o.destination}: {o.reason}" for o in skipped) or "(none)")},
        )
        metadata = publication_metadata(result, folders.exports / audience.name)
        metadata["blocking_checks_recorded"] = MetadataValue.int(len(check_results))
        return MaterializeResult(metadata=metadata, check_results=[check])

    return _export


def build_log_assets(export_keys: list[AssetKey]) -> list[AssetsDefinition]:
    """`audiences/memberships` and `audiences/publish_log`: the tables the export assets append to,
    reported once every export has run (so readouts can depend on them)."""

    @asset(key=MEMBERSHIPS_KEY, group_name="exports", kinds={"duckdb"}, deps=export_keys)
    def memberships(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        """One row per (audience, contact_id) ever published: group (treatment | holdout, as of the
        latest publish), first_published_at (never changes), last_published_at (data dates). Upserted
        by the exports/* assets after a successful publish. Used by the lift readouts."""
        with warehouse.connect() as con:
            run_sql(con, "audiences/create_tables")
            summary = run_sql(con, "audiences/membership_summary").pl()
            counts = summary.group_by("group").agg(pl.col("in_latest_publish").sum()).sort("group")
            return MaterializeResult(metadata={
                **table_metadata(con, "audiences.memberships"),
                "by_audience": MetadataValue.md(frame_md(summary)),
                "distribution/group": distribution_md(counts, "group", "in_latest_publish"),
            })

    @asset(key=PUBLISH_LOG_KEY, group_name="exports", kinds={"duckdb"}, deps=export_keys)
    def publish_log(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        """One row per publish attempt per (audience, destination) and night: status (published |
        unchanged | skipped | failed), reason, publish_id, rows, adds, removes, sizes, sha256 of each
        file, path, run_id, data_date. Appended by the exports/* assets; a re-run of a night adds
        nothing. Used by the CLI summary and to audit what was sent where."""
        with warehouse.connect() as con:
            run_sql(con, "audiences/create_tables")
            data_date = resolve_data_date(con, context.run.tags)
            tonight = run_sql(con, "audiences/publish_log_for_date", {"data_date": data_date}).pl()
            statuses = tonight.group_by("status").len("n").sort("status")
            return MaterializeResult(metadata={
                **table_metadata(con, "audiences.publish_log"),
                "data_date": MetadataValue.text(data_date.isoformat()),
                "tonight": MetadataValue.md(frame_md(tonight)),
                "distribution/status": distribution_md(statuses, "status", "n"),
            })

    return [memberships, publish_log]


def build_publish_assets(audiences: list[AudienceDefinition]) -> list[AssetsDefinition]:
    """One export asset per audience, then the memberships and publish-log assets after all of them."""
    exports = [build_export_asset(a) for a in audiences]
    return exports + build_log_assets([export_key(a) for a in audiences])


# Read when the code location loads: the asset graph has one export asset per declared audience.
publish_assets = build_publish_assets(load_audiences(Settings.from_env().config_dir))
