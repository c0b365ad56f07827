"""Segment assets: thin wiring of the Polars rules in this package over the staged warehouse.

    staging.contacts -> segments.contact_personas -> segments.account_segments -> segments.contact_segments
"""

import polars as pl
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.data_date import resolve_data_date
from assets.metadata import distribution_md, table_metadata
from assets.segments.channels import assign_channel, lead_source_channel_expr, load_channel_rules
from assets.segments.company_size import add_company_size, load_company_size_rules
from assets.segments.content_events import refresh_content_events
from assets.segments.distinct_values import with_per_combination
from assets.segments.interests import content_interests, load_content_rules, nurture_track_expr
from assets.segments.persona import classify_contacts
from assets.segments.persona_rules import load_persona_rules
from assets.segments.touches import update_contact_touches
from assets.segments.upsell import account_features, load_upsell_config, score_accounts
from assets.sql_files import run_sql
from assets.warehouse_tables import replace_table
from workflows.resources import Folders, Warehouse

GROUP = "segments"


def counts(frame: pl.DataFrame, column: str) -> MetadataValue:
    """Rows per value of `column`, as a Markdown table with bars."""
    by_value = frame.group_by(column).agg(n=pl.len()).sort(["n", column], descending=[True, False])
    return distribution_md(by_value.with_columns(pl.col(column).cast(pl.String).fill_null("(null)")), column)


@asset(
    key=["segments", "contact_personas"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    deps=[AssetKey(["staging", "contacts"])],
)
def contact_personas(warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per contact: job_title -> persona_function x persona_seniority and a readable persona.

    Rules: config/personas.yaml (keywords, abbreviations, translations, seniority conventions).
    Used by account_segments (engaged decision makers) and contact_segments."""
    rules = load_persona_rules(folders.config)
    with warehouse.connect() as con:
        contacts = con.table("staging.contacts").select("contact_id, job_title").pl()
        personas = classify_contacts(contacts, rules=rules)
        replace_table(con, "segments.contact_personas", personas, key=["contact_id"])
        metadata = table_metadata(con, "segments.contact_personas")
    return MaterializeResult(
        metadata={
            **metadata,
            "distribution/persona_function": counts(personas, "persona_function"),
            "distribution/persona_seniority": counts(personas, "persona_seniority"),
        }
    )


@asset(
    key=["segments", "account_segments"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    deps=[
        AssetKey(["segments", "contact_personas"]),
        AssetKey(["staging", "accounts"]),
        AssetKey(["staging", "subscriptions"]),
        AssetKey(["staging", "events"]),
        AssetKey(["staging", "opportunities"]),
    ],
)
def account_segments(context: AssetExecutionContext, warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per account: company size band and tier, customer status, the upsell features
    (point-in-time at the data date), one `criterion_<name>` flag per upsell hypothesis, the score,
    the criteria met and the candidate flag.

    Rules: config/company_size.yaml (bands, tier cut-offs) and config/upsell.yaml (criteria, weights,
    candidate rule). Used by contact_segments, the audiences and the readouts."""
    size_rules = load_company_size_rules(folders.config)
    upsell = load_upsell_config(folders.config)
    with warehouse.connect() as con:
        as_of = resolve_data_date(con, context.run.tags)
        personas = con.table("segments.contact_personas").pl()
        features = score_accounts(account_features(con, as_of, personas, upsell), upsell)
        accounts = add_company_size(
            con.table("staging.accounts").select("account_id, employee_count").pl(), rules=size_rules
        )
        segments = (
            accounts.drop("employee_count")
            .join(features.drop("as_of", strict=False), on="account_id", how="left")
            .with_columns(pl.col("is_customer", "upsell_candidate").fill_null(False))
            .sort("account_id")
        )
        replace_table(con, "segments.account_segments", segments, key=["account_id"])
        metadata = table_metadata(con, "segments.account_segments")
    customers = segments.filter(pl.col("is_customer"))
    criteria = pl.DataFrame(
        {
            "criterion": [c.name for c in upsell.criteria],
            "n": [int(customers[c.column].fill_null(False).sum()) for c in upsell.criteria],
        }
    )
    return MaterializeResult(
        metadata={
            **metadata,
            "data_date": MetadataValue.text(as_of.isoformat()),
            "customers": MetadataValue.int(customers.height),
            "upsell_candidates": MetadataValue.int(int(segments["upsell_candidate"].sum())),
            "candidate_share_of_customers": MetadataValue.float(
                round(float(customers["upsell_candidate"].mean()), 4) if customers.height else 0.0
            ),
            "distribution/company_size_band": counts(segments, "company_size_band"),
            "distribution/company_tier": counts(segments, "company_tier"),
            "distribution/criteria_met_by_customers": distribution_md(criteria, "criterion"),
        }
    )


@asset(
    key=["segments", "contact_segments"],
    group_name=GROUP,
    kinds={"polars", "duckdb"},
    deps=[
        AssetKey(["segments", "account_segments"]),
        AssetKey(["segments", "contact_personas"]),
        AssetKey(["staging", "sessions"]),
        AssetKey(["staging", "events"]),
    ],
)
def contact_segments(warehouse: Warehouse, folders: Folders) -> MaterializeResult:
    """One row per contact: persona, first and last touch (GA4 channel, source, medium, campaign),
    lead_source_channel (the web first touch, else the CRM lead source mapped to the same vocabulary),
    content interests and nurture track, plus the account's size band, tier, customer and upsell flags.

    Rules: config/channels.yaml (GA4 default channel grouping, CRM lead sources) and
    config/content.yaml (topics, nurture tracks). Touches are recomputed only for the contacts whose
    sessions changed (assets/segments/touches.py; metadata `touches_build`); interests read the
    counted events' copy that staging/events keeps in step (assets/segments/content_events.py;
    metadata `content_events_copy`). Used by the audiences."""
    channel_rules = load_channel_rules(folders.config)
    content_rules = load_content_rules(folders.config)
    # Its own connection: when the copy must be made again (first night, after a full events build),
    # DuckDB's cache of the scanned events goes with it, before the frames below are built.
    with warehouse.connect() as con:
        content_copy = refresh_content_events(con, content_rules.counted_events)  # kept in step by staging/events
    with warehouse.connect() as con:
        touch_build = update_contact_touches(con)  # only the contacts whose sessions changed
        touches = con.table("build_state.contact_touches").pl()
        touches = assign_channel(
            touches, "first_touch_source", "first_touch_medium", "first_touch_campaign",
            "first_touch_channel", rules=channel_rules,
        )
        touches = assign_channel(
            touches, "last_touch_source", "last_touch_medium", "last_touch_campaign",
            "last_touch_channel", rules=channel_rules,
        ).with_columns(
            # no non-direct session at all: the last touch is as direct as the first
            pl.when(pl.col("last_touch_source").is_null()).then(pl.lit("Direct"))
            .otherwise(pl.col("last_touch_channel")).alias("last_touch_channel")
        )
        events = run_sql(con, "segments/contact_content_events", {"events": list(content_rules.counted_events)}).pl()
        interests = content_interests(events, rules=content_rules).with_columns(
            nurture_track_expr(pl.col("content_interests"), rules=content_rules).alias("nurture_track"))
        contacts = with_per_combination(
            con.table("staging.contacts").select("contact_id, account_id, lead_source").pl(), ["lead_source"],
            lead_source_channel_expr(pl.col("lead_source"), rules=channel_rules), "crm_lead_source_channel")
        personas = con.table("segments.contact_personas").select(
            "contact_id, persona_function, persona_seniority, persona"
        ).pl()
        accounts = con.table("segments.account_segments").select(
            "account_id, company_size_band, company_tier, is_customer, upsell_candidate"
        ).pl()
        segments = (
            contacts.join(personas, on="contact_id", how="left")
            .join(touches, on="contact_id", how="left")
            .join(interests.select("contact_id", "content_interests", "nurture_track"), on="contact_id", how="left")
            .join(accounts, on="account_id", how="left")
            .with_columns(
                pl.coalesce(pl.col("first_touch_channel"), pl.col("crm_lead_source_channel")).alias("lead_source_channel"),
                pl.col("content_interests").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                # no interest: the default track (what nurture_track_expr gives an empty list)
                pl.col("nurture_track").fill_null(content_rules.default_track),
                # a contact without a (known) account: the size is unknown, band and tier alike
                pl.col("company_size_band", "company_tier").fill_null("unknown"),
                pl.col("is_customer", "upsell_candidate").fill_null(False),
            )
            .select(
                "contact_id", "account_id", "persona_function", "persona_seniority", "persona",
                "first_touch_channel", "first_touch_source", "first_touch_medium", "first_touch_campaign",
                "first_touch_at", "last_touch_channel", "lead_source_channel", "content_interests",
                "nurture_track", "company_size_band", "company_tier", "is_customer", "upsell_candidate",
            )
            .sort("contact_id")
        )
        replace_table(con, "segments.contact_segments", segments, key=["contact_id"])
        metadata = table_metadata(con, "segments.contact_segments")
    return MaterializeResult(
        metadata={
            **metadata,
            "contacts_with_web_touch": MetadataValue.int(int(segments["first_touch_channel"].is_not_null().sum())),
            "touches_build": MetadataValue.text(touch_build.mode),
            "touches_recomputed": MetadataValue.int(touch_build.rebuilt),
            "content_events_copy": MetadataValue.text(content_copy),
            "distribution/lead_source_channel": counts(segments, "lead_source_channel"),
            "distribution/first_touch_channel": counts(segments, "first_touch_channel"),
            "distribution/last_touch_channel": counts(segments, "last_touch_channel"),
            "distribution/nurture_track": counts(segments, "nurture_track"),
            "distribution/persona_function": counts(segments, "persona_function"),
            "distribution/persona_seniority": counts(segments, "persona_seniority"),
            "distribution/company_tier": counts(segments, "company_tier"),
            "customer_share": MetadataValue.float(round(float(segments["is_customer"].mean()), 4) if segments.height else 0.0),
            "upsell_candidate_share": MetadataValue.float(
                round(float(segments["upsell_candidate"].mean()), 4) if segments.height else 0.0),
        }
    )
