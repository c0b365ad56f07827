"""The `audiences.members` asset: who is in each audience tonight, and in which group.

Thin wiring: the audiences come from `config/audiences.yaml` (assets/audiences/definitions.py), the
rules from eligibility.py (Polars) and holdout.py (SQL). The export assets read the table.
"""
# No `from __future__ import annotations`: Dagster reads the context type hint at definition time.
import duckdb
import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.audiences.definitions import AudienceDefinition, load_audiences
from assets.audiences.eligibility import CONTACT_COLUMNS, REASONS, SEGMENT_COLUMNS, Eligibility, audience_eligibility
from assets.audiences.holdout import write_members
from assets.data_date import resolve_data_date
from assets.exports.phone_cache import cached_parser
from assets.metadata import frame_md, table_metadata
from assets.sql_files import run_sql
from assets.warehouse_tables import registered
from workflows.resources import Folders, Warehouse

MEMBERS_KEY = AssetKey(["audiences", "members"])
RULES_CHECK = "consent_and_customer_rules"
KINDS_VIEW = "audience_kinds"  # the name sql/audiences/check_members.sql reads


def _columns(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """Only `columns` of a warehouse table (names from our code, passed as column expressions)."""
    return con.table(table).select(*(duckdb.ColumnExpression(c) for c in columns)).pl()


def segment_columns(con: duckdb.DuckDBPyConnection, audiences: list[AudienceDefinition]) -> pl.DataFrame:
    """segments.contact_segments with only the columns eligibility and the audiences' filters read (the
    1M-row table whole, lists included, took ~1s to read). If a filter names a column the table lacks,
    all of it: the filter's compilation then names the column among all the others."""
    wanted = {*SEGMENT_COLUMNS, *(c for audience in audiences for c in audience.columns)}
    present = con.table("segments.contact_segments").columns
    if not wanted <= set(present):
        return con.table("segments.contact_segments").pl()
    return _columns(con, "segments.contact_segments", tuple(c for c in present if c in wanted))


def size_table(con: duckdb.DuckDBPyConnection, result: Eligibility) -> pl.DataFrame:
    """One row per audience: matched, treatment, holdout, then excluded contacts per reason."""
    groups = run_sql(con, "audiences/member_sizes").pl()
    excluded = result.exclusions.pivot(on="reason", index="audience", values="contacts")
    table = result.matched.join(groups, on="audience", how="left").join(excluded, on="audience", how="left")
    for reason in REASONS:
        if reason not in table.columns:
            table = table.with_columns(pl.lit(0, pl.UInt32).alias(reason))
    table = table.select("audience", "matched", "treatment", "holdout", *REASONS)
    return table.with_columns(pl.exclude("audience").fill_null(0).cast(pl.Int64))


@asset(
    key=MEMBERS_KEY,
    group_name="audiences",
    kinds={"polars", "duckdb"},
    deps=[
        AssetKey(["segments", "contact_segments"]),
        AssetKey(["staging", "contacts"]),
        AssetKey(["staging", "suppressions"]),
    ],
    check_specs=[
        AssetCheckSpec(
            RULES_CHECK, asset=MEMBERS_KEY, blocking=True,
            description="No member opted out or is suppressed; lead-source audiences hold no customers, upsell "
                        "audiences only customers; one row per (audience, contact). Fails the run before export.",
        )
    ],
)
def members(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per (audience, contact_id) in an audience tonight: audience, contact_id, account_id,
    group (treatment | holdout), as_of. From segments.contact_segments (each audience's filter in
    config/audiences.yaml) and staging.contacts / staging.suppressions (consent and matchability; see
    assets/audiences/eligibility.py). The holdout is a stable hash of audience and contact_id. Used by
    the exports/* assets (treatment only) and the lift readouts (both groups)."""
    audiences = load_audiences(folders.config)
    with warehouse.connect() as con:
        as_of = resolve_data_date(con, context.run.tags)
        result = audience_eligibility(
            segments=segment_columns(con, audiences),
            contacts=_columns(con, "staging.contacts", CONTACT_COLUMNS),
            suppressions=_columns(con, "staging.suppressions", ("email_normalized",)),
            audiences=audiences,
            parse_phones=cached_parser(con),
        )
        write_members(con, result.members, as_of)
        sizes = size_table(con, result)

        kinds = pl.DataFrame({"audience": [a.name for a in audiences], "kind": [a.kind for a in audiences]})
        with registered(con, KINDS_VIEW, kinds):
            consent, customer_rule, duplicates = run_sql(con, "audiences/check_members").fetchone()
        problems = {"consent": consent, "customer_rule": customer_rule, "duplicates": duplicates}
        check = AssetCheckResult(
            check_name=RULES_CHECK, passed=not any(problems.values()), severity=AssetCheckSeverity.ERROR,
            metadata={f"violations/{k}": MetadataValue.int(int(v)) for k, v in problems.items()},
        )
        metadata = {
            **table_metadata(con, "audiences.members"),
            "data_date": MetadataValue.text(as_of.isoformat()),
            "sizes": MetadataValue.md(frame_md(sizes)),
            **{f"size/{row['audience']}": MetadataValue.int(row["treatment"] + row["holdout"])
               for row in sizes.iter_rows(named=True)},
            **{f"excluded/{reason}": MetadataValue.int(int(sizes[reason].sum())) for reason in REASONS},
        }
        context.log.info("audience sizes:\n%s", frame_md(sizes))
        return MaterializeResult(metadata=metadata, check_results=[check])
