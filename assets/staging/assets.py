"""Staging assets: one per `staging.*` table, each running its SQL model (`sql/staging/<table>.sql`).

Thin wiring only: the rules come from `config/web.yaml` (validated), the data date from the run, the
logic from the SQL files (see `assets.staging.models`).
"""
# No `from __future__ import annotations`: Dagster reads the context type hint at definition time.
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.data_date import resolve_data_date
from assets.metadata import table_metadata
from assets.staging import summaries
from assets.staging.models import build_model
from assets.staging.web_rules import load_web_rules
from workflows.resources import Folders, Warehouse


def _raw(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def _staging(table: str) -> AssetKey:
    return AssetKey(["staging", table])


def _materialize(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    folders: Folders,
    table: str,
    summary: summaries.Summary | None = None,
) -> MaterializeResult:
    rules = load_web_rules(folders.config)
    with warehouse.connect() as con:
        as_of = resolve_data_date(con, context.run.tags)
        info = build_model(con, table, rules, as_of)
        extras = summary(con, as_of) if summary else {}
        if info is not None:  # events and sessions: how tonight's build went
            extras["build"] = MetadataValue.text(info.mode)
            extras["rebuilt_tonight"] = MetadataValue.int(info.rebuilt)
            if info.reranked is not None:
                extras["reranked_tonight"] = MetadataValue.int(info.reranked)
        return MaterializeResult(metadata={**table_metadata(con, f"staging.{table}"), **extras})


STAGING = dict(key_prefix=["staging"], group_name="staging", kinds={"duckdb"})


@asset(**STAGING, deps=[_raw("suppressions")])
def suppressions(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per email_normalized that must never be exported (earliest entry kept), from
    raw.suppressions (empty when crm/suppressions.csv was not landed). Used by staging.contacts."""
    return _materialize(context, warehouse, folders, "suppressions")


@asset(**STAGING, deps=[_raw("contacts"), _staging("suppressions")])
def contacts(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per person: raw.contacts with emails normalised and validated, records with the same
    valid email merged (survivor = most recently updated; rule at the top of sql/staging/contacts.sql),
    opt-outs and suppressions flagged. Used by segments, audiences and exports."""
    return _materialize(context, warehouse, folders, "contacts", summaries.contacts_summary)


@asset(**STAGING, deps=[_staging("contacts")])
def contact_id_map(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per CRM contact_id: the surviving contact_id it was merged into. Used to re-point
    opportunities, web userIds and the identity map to the merged person."""
    return _materialize(context, warehouse, folders, "contact_id_map", summaries.contact_id_map_summary)


@asset(**STAGING, deps=[_raw("accounts")])
def accounts(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per account_id (latest created_at of duplicates), domain normalised to a bare host,
    from raw.accounts. Used by the company-size and upsell segments."""
    return _materialize(context, warehouse, folders, "accounts", summaries.accounts_summary)


@asset(**STAGING, deps=[_raw("opportunities"), _staging("contact_id_map")])
def opportunities(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per opportunity_id from raw.opportunities: type normalised (new_business, upsell,
    renewal, other), is_closed, contact_id re-pointed to the merged person. Used by upsell readouts."""
    return _materialize(context, warehouse, folders, "opportunities", summaries.opportunities_summary)


@asset(**STAGING, deps=[_raw("subscriptions")])
def subscriptions(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per subscription_id from raw.subscriptions: status lowercase, is_active_as_of on the
    run's data date. Used to find current customers (upsell segments)."""
    return _materialize(context, warehouse, folders, "subscriptions", summaries.subscriptions_summary)


@asset(**STAGING, deps=[_raw("web_events"), _staging("contacts"), _staging("contact_id_map")])
def identity_map(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per anonymous_id tied to a contact (by CRM userId, identify email or form email, in that
    priority), from raw.web_events. Stitches anonymous sessions, even those before the identify call."""
    return _materialize(context, warehouse, folders, "identity_map", summaries.identity_map_summary)


@asset(**STAGING, deps=[_raw("web_events"), _staging("identity_map"), _staging("contact_id_map")])
def events(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per message_id (earliest delivery) from raw.web_events: bots flagged, referrer host, UTM
    fields, click ids, form/identify email, content topic, contact_id. Used by sessions and segments.
    Incremental: only the messages of new or reloaded days and of visitors whose contact changed are
    rebuilt (metadata `build`, `rebuilt_tonight`); a full rebuild when the rules or logic changed."""
    return _materialize(context, warehouse, folders, "events", summaries.events_summary)


@asset(**STAGING, deps=[_staging("events")])
def sessions(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per session (a visitor's non-bot events, split after config/web.yaml's inactivity
    timeout, 30 minutes) with the first event's source / medium / campaign, from staging.events.
    Incremental: only the sessions of visitors whose events changed are rebuilt, from the session
    their earliest change reaches on; a visitor whose contact alone changed gets its sessions' contact
    updated. Used by the lead-source segments."""
    return _materialize(context, warehouse, folders, "sessions", summaries.sessions_summary)


