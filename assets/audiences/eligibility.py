"""Who may be in an audience: the audience filter, then consent and matchability, then the customer rule.

Everything here is Polars over whole frames (no Dagster). A contact that meets an audience's filter is
EXCLUDED, for the first reason that applies, in this order:

- `duplicate`: its contact_id is not exactly one row of segments.contact_segments and exactly one
  surviving row of staging.contacts (merged-away ids and broken exports are never published);
- `opted_out`: staging.contacts.email_opt_out (unknown counts as opted out);
- `suppressed`: staging.contacts.is_suppressed (unknown counts as suppressed), or its email matches a
  staging.suppressions entry once both are normalised the strictest way the platforms do (trim,
  lowercase, no inner spaces, gmail dots and +tags removed, googlemail = gmail), so
  `J.Doe+x@Gmail.com` is caught too;
- `blocked_identifier`: its email (same normalisation) or phone (E.164) is also the email or phone of
  an opted-out or suppressed contact: exporting it would put that person's hash in the file;
- `no_identifier`: no valid email and no phone that parses to E.164: no platform could match it;
- `customer` (lead_source audiences: is_customer must be false) / `non_customer` (upsell audiences:
  is_customer must be true); unknown is neither, so it is excluded from both.

Phones are parsed (the slow step, ~35 µs per distinct number) only for contacts that met some filter
and for opted-out or suppressed contacts.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.audiences.definitions import AudienceDefinition
from assets.exports.normalize import (
    country_iso2, google_email, normalize_email, parse_phone_pairs, phone_e164, select_normalized,
)

REASONS = ("duplicate", "opted_out", "suppressed", "blocked_identifier", "no_identifier", "customer", "non_customer")
SEGMENT_COLUMNS = ("contact_id", "account_id", "is_customer")
CONTACT_COLUMNS = ("contact_id", "email", "email_valid", "phone", "country", "email_opt_out", "is_suppressed")
SUPPRESSION_COLUMNS = ("email_normalized",)
MEMBER_SCHEMA = {"audience": pl.String, "contact_id": pl.String, "account_id": pl.String, "holdout_share": pl.Float64}


@dataclass(frozen=True)
class Eligibility:
    """The outcome for every audience.

    members:    one row per (audience, contact_id) allowed in: audience, contact_id, account_id, holdout_share
    exclusions: one row per (audience, reason) with `contacts` excluded for that reason
    matched:    one row per audience with `matched` = contacts that met its filter (before exclusions)
    """

    members: pl.DataFrame
    exclusions: pl.DataFrame
    matched: pl.DataFrame


def _require(frame: pl.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table} lacks column(s) {missing}; audiences need {list(columns)} "
                         "(see docs/tables.md); rebuild that table")


def email_match_key(email: pl.Expr) -> pl.Expr:
    """The email as the platform that merges the most addresses sees it (Google: gmail dots and +tags
    dropped), with googlemail.com read as gmail.com (one mailbox): two addresses with the same key are
    treated as one person."""
    return google_email(email).str.replace(r"@googlemail\.com$", "@gmail.com")


def matched_contacts(segments: pl.DataFrame, audiences: list[AudienceDefinition]) -> pl.DataFrame:
    """(audience, contact_id) for every contact meeting each audience's filter, filters compiled
    against the frame's own schema (so a type mistake names the rule, not a Polars internal)."""
    _require(segments, SEGMENT_COLUMNS, "segments.contact_segments")
    schema = segments.schema
    frames = [
        segments.lazy().filter(audience.filter_expr(schema))
        .select(pl.lit(audience.name, pl.String).alias("audience"), pl.col("contact_id").cast(pl.String))
        for audience in audiences
    ]
    empty = pl.DataFrame(schema={"audience": pl.String, "contact_id": pl.String})
    return pl.concat(frames).collect().unique(maintain_order=True) if frames else empty


def person_reasons(
    contacts: pl.DataFrame, suppressions: pl.DataFrame, segments: pl.DataFrame, candidate_ids: pl.Series,
    parse_phones=parse_phone_pairs,
) -> pl.DataFrame:
    """One row per candidate contact_id: `reason` (see the module docstring; NULL = may be exported).
    `parse_phones`: how distinct phone numbers are parsed (see `phone_e164`)."""
    _require(contacts, CONTACT_COLUMNS, "staging.contacts")
    _require(suppressions, SUPPRESSION_COLUMNS, "staging.suppressions")
    contacts = select_normalized(
        contacts,
        pl.col("contact_id").cast(pl.String),
        pl.col("email_valid").fill_null(False).alias("_valid"),
        normalize_email(pl.col("email")).alias("_email"),
        email_match_key(pl.col("email")).alias("_key"),
        pl.col("phone").cast(pl.String),
        country_iso2(pl.col("country")).alias("_cc"),
        pl.col("email_opt_out").fill_null(True).alias("_opted_out"),
        pl.col("is_suppressed").fill_null(True).alias("_flagged"),
    )
    suppressed_keys = select_normalized(suppressions, email_match_key(pl.col("email_normalized")).alias("_key")).drop_nulls()
    contacts = contacts.with_columns(
        (pl.col("_flagged") | pl.col("_key").is_in(suppressed_keys["_key"].implode()).fill_null(False)).alias("_suppressed")
    )
    candidates = pl.DataFrame({"contact_id": candidate_ids.cast(pl.String)}).unique()
    blocked = pl.col("_opted_out") | pl.col("_suppressed")
    needs_phone = blocked | pl.col("contact_id").is_in(candidates["contact_id"].implode())
    with_phone = contacts.filter(needs_phone & pl.col("phone").is_not_null())
    with_phone = with_phone.with_columns(phone_e164(with_phone, "phone", "_cc", parse_phones).alias("_e164"))
    blocked_rows = with_phone.filter(blocked)
    blocked_keys = contacts.filter(blocked)["_key"].drop_nulls().unique().implode()
    blocked_phones = blocked_rows["_e164"].drop_nulls().unique().implode()

    segment_counts = segments.group_by(pl.col("contact_id").cast(pl.String)).len("_in_segments")
    contact_counts = contacts.group_by("contact_id").len("_in_contacts")
    unique_contacts = contacts.join(contact_counts.filter(pl.col("_in_contacts") == 1), on="contact_id", how="semi")
    phones = with_phone.select("contact_id", "_e164").unique("contact_id", keep="any")
    people = (
        candidates.join(segment_counts, on="contact_id", how="left")
        .join(unique_contacts, on="contact_id", how="left")
        .join(contact_counts, on="contact_id", how="left")
        .join(phones, on="contact_id", how="left")
    )
    has_email = pl.col("_valid") & pl.col("_email").is_not_null()
    shares_blocked = pl.col("_key").is_in(blocked_keys).fill_null(False) | pl.col("_e164").is_in(blocked_phones).fill_null(False)
    reason = (
        pl.when((pl.col("_in_segments") != 1) | (pl.col("_in_contacts") != 1) | pl.col("_in_contacts").is_null())
        .then(pl.lit("duplicate"))
        .when(pl.col("_opted_out")).then(pl.lit("opted_out"))
        .when(pl.col("_suppressed")).then(pl.lit("suppressed"))
        .when(shares_blocked).then(pl.lit("blocked_identifier"))
        .when(~has_email & pl.col("_e164").is_null()).then(pl.lit("no_identifier"))
        .otherwise(pl.lit(None, pl.String))
    )
    return people.select("contact_id", reason.alias("reason"))


def audience_eligibility(
    segments: pl.DataFrame,
    contacts: pl.DataFrame,
    suppressions: pl.DataFrame,
    audiences: list[AudienceDefinition],
    parse_phones=parse_phone_pairs,
) -> Eligibility:
    """Members, exclusions by reason and matched counts for every audience (see the module docstring).

    segments: segments.contact_segments (the columns filters use, plus SEGMENT_COLUMNS);
    contacts: staging.contacts (CONTACT_COLUMNS); suppressions: staging.suppressions;
    parse_phones: how distinct phone numbers are parsed (the nightly job: a warehouse cache).
    """
    matched = matched_contacts(segments, audiences)
    reasons = person_reasons(contacts, suppressions, segments, matched["contact_id"], parse_phones)
    settings = pl.DataFrame(
        {"audience": [a.name for a in audiences], "_kind": [a.kind for a in audiences],
         "holdout_share": [a.holdout_share for a in audiences]},
        schema={"audience": pl.String, "_kind": pl.String, "holdout_share": pl.Float64},
    )
    # Duplicated segment rows are excluded as `duplicate`; any one of them gives account and customer flag.
    firmographics = segments.select(
        pl.col("contact_id").cast(pl.String), pl.col("account_id").cast(pl.String),
        pl.col("is_customer").cast(pl.Boolean),
    ).unique("contact_id", keep="first", maintain_order=True)
    rows = (
        matched.join(settings, on="audience", how="left")
        .join(reasons, on="contact_id", how="left")
        .join(firmographics, on="contact_id", how="left")
    )
    kind_reason = (
        pl.when((pl.col("_kind") == "lead_source") & (pl.col("is_customer") != False).fill_null(True))  # noqa: E712
        .then(pl.lit("customer"))
        .when((pl.col("_kind") == "upsell") & (pl.col("is_customer") != True).fill_null(True))  # noqa: E712
        .then(pl.lit("non_customer"))
    )
    rows = rows.with_columns(pl.coalesce("reason", kind_reason).alias("reason"))
    members = (
        rows.filter(pl.col("reason").is_null())
        .select(list(MEMBER_SCHEMA))
        .cast(MEMBER_SCHEMA)
        .sort("audience", "contact_id")
    )
    exclusions = (
        rows.filter(pl.col("reason").is_not_null())
        .group_by("audience", "reason").len("contacts")
        .sort("audience", "reason")
    )
    counts = matched.group_by("audience").len("matched")
    matched_counts = settings.select("audience").join(counts, on="audience", how="left").with_columns(
        pl.col("matched").fill_null(0)
    )
    return Eligibility(members=members, exclusions=exclusions, matched=matched_counts)
