"""Dagster wiring for the raw layer: landing files -> raw.* tables (logic in crm_load / web_events_load)."""

import datetime as dt

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    multi_asset,
)

from assets.metadata import distribution_md, table_metadata
from assets.raw.crm_load import load_crm
from assets.raw.landing import CRM_ENTITIES, LandingFileError, LoadCounts, create_raw_tables
from assets.raw.landing_check import check_landing
from assets.raw.web_events_load import load_web_events
from assets.sql_files import run_sql
from workflows.pipeline_config import load_pipeline_config
from workflows.resources import Folders, Warehouse

GROUP = "raw"
CRM_DESCRIPTIONS = {
    "accounts": "One row per account row of crm/accounts.csv (full snapshot), typed. Used by staging.accounts.",
    "contacts": "One row per contact row of crm/contacts.csv (full snapshot; HubSpot/Salesforce exports "
                "mapped to canonical columns), typed. Used by staging.contacts.",
    "opportunities": "One row per opportunity/deal row of crm/opportunities.csv (full snapshot), typed. "
                     "Used by staging.opportunities.",
    "subscriptions": "One row per subscription row of crm/subscriptions.csv (full snapshot), typed. "
                     "Used by staging.subscriptions.",
    "suppressions": "One row per suppressed email in crm/suppressions.csv (optional; empty without the "
                    "file). Used by staging.suppressions so these people are never exported.",
}


def _counts_metadata(counts: LoadCounts) -> dict:
    return {
        "rows_loaded": MetadataValue.int(counts.rows_loaded),
        "rows_quarantined": MetadataValue.int(counts.rows_quarantined),
        "files_read": MetadataValue.int(counts.files_read),
        "formats_detected": MetadataValue.text(", ".join(counts.formats) or "(none)"),
        **({"lines_from_text": MetadataValue.int(counts.lines_from_text)} if counts.lines_from_text else {}),
    }


def ingestion_retry_policy() -> RetryPolicy:
    """Retries of the ingestion steps from config/pipeline.yaml (`retries`), with exponential backoff.
    Transient IO (a landing share that blips, a file still being copied) is worth a retry; a
    structurally wrong file is not (LandingFileError -> Failure(allow_retries=False))."""
    config = load_pipeline_config()
    return RetryPolicy(max_retries=config.max_retries, delay=config.retry_delay_s, backoff=Backoff.EXPONENTIAL)


INGESTION_RETRIES = ingestion_retry_policy()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@multi_asset(
    specs=[
        AssetSpec(AssetKey(["raw", entity]), group_name=GROUP, kinds={"duckdb"}, description=CRM_DESCRIPTIONS[entity])
        for entity in CRM_ENTITIES
    ],
    name="raw_crm",
    retry_policy=INGESTION_RETRIES,
)
def raw_crm(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders):
    """Load the CRM snapshots (`crm/*.csv`) into the five raw CRM tables in one transaction.

    The whole landing folder is checked first (missing/empty required file, unrecognised header,
    missing required column, an empty or misnamed web day file -> the run stops with one error naming
    every file and column, no table changed). Bad rows go to raw.quarantine. Formats (canonical,
    hubspot, salesforce) are detected per file by header."""
    try:
        check_landing(folders.landing, folders.config)
        with warehouse.connect() as con:
            counts = load_crm(con, folders.landing, _utc_now(), config_dir=folders.config)
            for entity in CRM_ENTITIES:
                table = f"raw.{entity}"
                yield MaterializeResult(
                    asset_key=AssetKey(["raw", entity]),
                    metadata={**table_metadata(con, table), **_counts_metadata(counts[entity])},
                )
    except LandingFileError as exc:
        raise Failure(description=str(exc), allow_retries=False) from exc


class WebEventsLoadConfig(Config):
    """Leave both empty for the nightly incremental load (new or changed day files only). Set a range
    (YYYY-MM-DD, inclusive; either end may be left open) to force a reload of those days: a backfill."""

    start_date: str | None = None
    end_date: str | None = None


def _config_date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Failure(description=f"raw/web_events config {name}: {value!r} is not a date; use YYYY-MM-DD",
                      allow_retries=False) from exc


@asset(
    key=AssetKey(["raw", "web_events"]),
    group_name=GROUP,
    kinds={"duckdb"},
    retry_policy=INGESTION_RETRIES,
)
def raw_web_events(context: AssetExecutionContext, config: WebEventsLoadConfig, warehouse: Warehouse, folders: Folders):
    """One row per line of a web event day file (`web/events/YYYY-MM-DD.jsonl`, Segment spec) that is a
    JSON object with messageId and timestamp; `event_date` from the file name. Duplicates kept (staging
    dedupes by messageId); broken lines go to raw.quarantine. Incremental: unchanged day files are
    skipped (raw.load_log); a start/end date in the run config forces a reload of that range. The
    whole landing folder (CRM files too) is checked before anything is loaded.
    Used by staging.events, sessions and identity_map."""
    start, end = _config_date(config.start_date, "start_date"), _config_date(config.end_date, "end_date")
    try:
        _, day_files = check_landing(folders.landing, folders.config)
        days = None
        if start or end:
            days = [d for d in day_files
                    if (start is None or d >= start) and (end is None or d <= end)]
            context.log.info(f"backfill: reloading {len(days)} day file(s) between {start or '...'} and {end or '...'}")
        with warehouse.connect() as con:
            counts = load_web_events(con, folders.landing, days=days, force=days is not None, loaded_at=_utc_now())
            days_loaded = run_sql(con, "raw/web_event_days_summary").fetchone()
            return MaterializeResult(metadata={
                **table_metadata(con, "raw.web_events"),
                **_counts_metadata(counts),
                "files_skipped_unchanged": MetadataValue.int(counts.files_skipped),
                "days_in_table": MetadataValue.int(days_loaded[0]),
                "first_day": MetadataValue.text(days_loaded[1] or "(none)"),
                "last_day": MetadataValue.text(days_loaded[2] or "(none)"),
            })
    except LandingFileError as exc:
        raise Failure(description=str(exc), allow_retries=False) from exc


@asset(
    key=AssetKey(["raw", "quarantine"]),
    # shown with the data checks: it is the night's report of what did not pass ingestion
    group_name="quality",
    kinds={"duckdb"},
    deps=[AssetKey(["raw", e]) for e in CRM_ENTITIES] + [AssetKey(["raw", "web_events"])],
)
def raw_quarantine(warehouse: Warehouse):
    """One row per landed row that could not be loaded (unparseable date, non-numeric value, missing
    id, broken JSON, bad encoding, wrong field count), with source, file, line, reason and raw text.
    Written by the raw loads; this asset reports it: counts by source and by reason. Read it to fix
    the exports; nothing downstream uses these rows."""
    with warehouse.connect() as con:
        create_raw_tables(con)
        by_source = con.execute(
            "select source, count(*) as n from raw.quarantine group by source order by n desc, source"
        ).pl()
        # the reason's kind, without the offending value ("unparseable date in created_at: '...'")
        by_reason = con.execute(
            "select source || ': ' || split_part(split_part(reason, ': ''', 1), '; ', 1) as reason, count(*) as n "
            "from raw.quarantine group by 1 order by n desc, reason limit 30"
        ).pl()
        return MaterializeResult(metadata={
            **table_metadata(con, "raw.quarantine"),
            "distribution/source": distribution_md(by_source, "source", "n"),
            "distribution/reason": distribution_md(by_reason, "reason", "n"),
            "rows_quarantined": MetadataValue.int(int(by_source["n"].sum()) if not by_source.is_empty() else 0),
        })
