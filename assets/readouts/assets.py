"""Readout assets (group `readouts`): thin wiring of `criteria_performance`, `audience_lift` and `report`.

    segments.account_segments + staging.opportunities -> readouts.upsell_criteria_performance
    audiences.memberships + staging.opportunities     -> readouts.audience_lift
    both                                              -> <REPORT_DIR>/readouts/<data_date>.html, latest.html
"""
# No `from __future__ import annotations`: Dagster reads the context type hint at definition time.
import polars as pl
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.data_date import resolve_data_date
from assets.metadata import distribution_md, table_metadata
from assets.readouts.audience_lift import audience_lift as compute_audience_lift
from assets.readouts.audience_lift import memberships_exist
from assets.readouts.criteria_performance import criteria_performance
from assets.readouts.readout_config import load_readout_config
from assets.readouts.report import criteria_md, lift_md, render_html, write_report
from assets.segments.upsell import load_upsell_config
from assets.warehouse_tables import replace_table
from workflows.resources import Folders, Warehouse

GROUP = "readouts"
CRITERIA_TABLE = "readouts.upsell_criteria_performance"
LIFT_TABLE = "readouts.audience_lift"


def _verdicts(table: pl.DataFrame) -> MetadataValue:
    counts = table.group_by("verdict").agg(n=pl.len()).sort(["n", "verdict"], descending=[True, False])
    return distribution_md(counts, "verdict")


@asset(
    key=["readouts", "upsell_criteria_performance"],
    group_name=GROUP,
    kinds={"duckdb", "polars"},
    deps=[
        AssetKey(["segments", "account_segments"]),
        AssetKey(["segments", "contact_personas"]),
        AssetKey(["staging", "opportunities"]),
    ],
)
def upsell_criteria_performance(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per upsell criterion of config/upsell.yaml, plus the combined candidate flag and each
    score band: pooled over monthly point-in-time snapshots (customers only), the success rate of
    flagged vs unflagged customers (an upsell created after the snapshot and won within N days), lift,
    Wilson/Newcombe/Katz intervals, p-value, precision, recall and a verdict (supported, not supported,
    not enough data). Past snapshots' features are cached in readouts.criteria_snapshot_features.
    Rules: config/readouts.yaml. Used by the readout report and by marketers pruning criteria."""
    config = load_readout_config(folders.config)
    upsell = load_upsell_config(folders.config)
    with warehouse.connect() as con:
        data_date = resolve_data_date(con, context.run.tags)
        personas = con.table("segments.contact_personas").select("contact_id, persona_seniority, persona_function").pl()
        table, snapshots, computed = criteria_performance(con, data_date, personas, upsell, config)
        replace_table(con, CRITERIA_TABLE, table)
        metadata = table_metadata(con, CRITERIA_TABLE)
    return MaterializeResult(metadata={
        **metadata,
        "data_date": MetadataValue.text(data_date.isoformat()),
        "snapshots": MetadataValue.text(", ".join(d.isoformat() for d in snapshots) or "(none yet)"),
        "snapshots_computed_tonight": MetadataValue.int(computed),
        "lift_by_criterion": MetadataValue.md(criteria_md(table)),
        "distribution/verdict": _verdicts(table),
    })


@asset(
    key=["readouts", "audience_lift"],
    group_name=GROUP,
    kinds={"duckdb", "polars"},
    deps=[
        AssetKey(["audiences", "members"]),
        AssetKey(["audiences", "memberships"]),
        AssetKey(["staging", "opportunities"]),
        AssetKey(["staging", "contacts"]),
    ],
)
def audience_lift(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per published audience: members whose outcome window has ended, conversions (config:
    opportunity created or won within N days after first publish, by the contact or their account) in
    treatment vs holdout, absolute and relative lift with their intervals, p-value and a verdict
    ("not enough data yet" below the minimum n or without a holdout). Empty, with a note, when no
    audience was published yet. Rules: config/readouts.yaml. Used by the readout report."""
    config = load_readout_config(folders.config)
    with warehouse.connect() as con:
        data_date = resolve_data_date(con, context.run.tags)
        published = memberships_exist(con)
        table = compute_audience_lift(con, data_date, config)
        replace_table(con, LIFT_TABLE, table)
        metadata = table_metadata(con, LIFT_TABLE)
    return MaterializeResult(metadata={
        **metadata,
        "data_date": MetadataValue.text(data_date.isoformat()),
        "status": MetadataValue.text("measured" if published else "no audience published yet"),
        "lift_by_audience": MetadataValue.md(lift_md(table)),
        "distribution/verdict": _verdicts(table),
    })


@asset(
    key=["readouts", "report"],
    group_name=GROUP,
    kinds={"html"},
    deps=[AssetKey(["readouts", "upsell_criteria_performance"]), AssetKey(["readouts", "audience_lift"])],
)
def readout_report(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """The nightly readout page for people: `<REPORT_DIR>/readouts/<data_date>.html` and `latest.html`
    (criteria with lift and interval charts, audience lift, how to read them). One file per night."""
    with warehouse.connect() as con:
        data_date = resolve_data_date(con, context.run.tags)
        criteria = con.table(CRITERIA_TABLE).pl()
        lift = con.table(LIFT_TABLE).pl()
    snapshots = sorted(set(pl.date_range(criteria["first_snapshot"].min(), criteria["last_snapshot"].max(), "1mo",
                                         eager=True).to_list())) if criteria["first_snapshot"].drop_nulls().len() else []
    dated, latest = write_report(folders.reports / "readouts", data_date, render_html(data_date, criteria, lift, snapshots))
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(dated)),
        "latest": MetadataValue.path(str(latest)),
        "data_date": MetadataValue.text(data_date.isoformat()),
        "criteria_supported": MetadataValue.int(int((criteria["verdict"] == "supported").sum())),
        "audiences_measured": MetadataValue.int(lift.height),
    })
