"""Ad-platform destinations: one small interface and the four file formats we write today.

A destination turns the audience's members into the platform's upload rows (normalised, hashed where
the platform asks, one row per person or per company). Where the rows go (files today, an API later) is
a `Publisher`'s job (`assets/exports/publishing.py`), so an uploader can be added without touching
audience logic or these renderers.

`members` (the input of every `render`) has one row per audience member (treatment group only) with
these String columns (`MEMBER_COLUMNS`); values are as in staging, i.e. not yet normalised:
    contact_id, email, phone, first_name, last_name, job_title, city, state, zip, country,
    account_id, account_name, account_domain, industry, account_city, account_state,
    account_country, account_zip

Optional: `phone_e164` (from `add_phone_e164`), so several destinations share one phone parse.
Rows with no identifier the platform can match are dropped; identical output rows are kept once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import polars as pl

from assets.config_files import ConfigError, load_yaml, require, require_one_of
from assets.exports.normalize import (
    blank_to_null,
    country_iso2,
    google_email,
    google_name,
    google_zip,
    letters_only,
    meta_name,
    meta_phone,
    meta_state,
    meta_zip,
    normalize_email,
    parse_phone_pairs,
    phone_e164,
    select_normalized,
    sha256_hex,
)

CONFIG_FILE = "destinations.yaml"
MEMBER_COLUMNS = [
    "contact_id", "email", "phone", "first_name", "last_name", "job_title", "city", "state", "zip",
    "country", "account_id", "account_name", "account_domain", "industry", "account_city",
    "account_state", "account_country", "account_zip",
]


class Destination(Protocol):
    """What the publisher needs from a destination: its name, template, minimum size and renderer."""

    name: str
    format: str
    min_size: int
    columns: list[str]  # the platform template's header, in order
    hashed_columns: list[str]  # columns that must hold SHA-256 hex or nothing

    def render(self, members: pl.DataFrame) -> pl.DataFrame:
        """Members -> upload rows with exactly `columns` (String), deduplicated."""
        ...


def check_members(members: pl.DataFrame, destination: str) -> None:
    """Fail with the missing column names if `members` lacks columns of the documented input."""
    missing = [c for c in MEMBER_COLUMNS if c not in members.columns]
    if missing:
        raise ValueError(
            f"{destination}: the members frame lacks columns {missing}; the audience step must pass "
            f"all of {MEMBER_COLUMNS} (see assets/exports/destinations.py)"
        )


def _finish(rows: pl.DataFrame, columns: list[str], matchable: pl.Expr) -> pl.DataFrame:
    """Keep rows with a matchable identifier, in template column order, each distinct row once."""
    return rows.filter(matchable).select(pl.col(c).cast(pl.String) for c in columns).unique(maintain_order=True)


def add_phone_e164(members: pl.DataFrame, parse_pairs=parse_phone_pairs) -> pl.DataFrame:
    """`members` plus `phone_e164` (the phone in E.164, parsed with the contact's country).

    Phone parsing is the slow step (~30 µs per distinct number; the nightly job passes a warehouse
    cache as `parse_pairs`). Renderers use this column when it is present, so call this once per
    audience before rendering several destinations.
    """
    check_members(members, "add_phone_e164")
    with_cc = members.with_columns(country_iso2(pl.col("country")).alias("_cc"))
    return members.with_columns(phone_e164(with_cc, "phone", "_cc", parse_pairs).alias("phone_e164"))


def _with_e164(members: pl.DataFrame) -> pl.DataFrame:
    """Add `_cc` (ISO-2 country of the contact) and `_e164` (phone in E.164) to `members`."""
    if "phone_e164" not in members.columns:
        members = add_phone_e164(members)
    return members.with_columns(country_iso2(pl.col("country")).alias("_cc"), pl.col("phone_e164").alias("_e164"))


@dataclass(frozen=True)
class GoogleCustomerMatch:
    """Google Ads Customer Match CSV (UI upload template); email, phone and names SHA-256, Country and
    Zip in clear. A row matches on email, phone, or first+last name+country+zip."""

    name: str = "google_ads"
    min_size: int = 100
    format: str = "google_customer_match_csv"
    columns: list[str] = field(default_factory=lambda: ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"])
    hashed_columns: list[str] = field(default_factory=lambda: ["Email", "Phone", "First Name", "Last Name"])

    def render(self, members: pl.DataFrame) -> pl.DataFrame:
        """Members -> Customer Match rows (see class docstring)."""
        check_members(members, self.name)
        rows = select_normalized(
            _with_e164(members),
            google_email(pl.col("email")).alias("Email"),
            pl.col("_e164").alias("Phone"),
            google_name(pl.col("first_name"), "first").alias("First Name"),
            google_name(pl.col("last_name"), "last").alias("Last Name"),
            pl.col("_cc").alias("Country"),
            google_zip(pl.col("zip"), pl.col("_cc")).alias("Zip"),
        )
        by_address = pl.all_horizontal(pl.col("First Name", "Last Name", "Country", "Zip").is_not_null())
        matchable = pl.col("Email").is_not_null() | pl.col("Phone").is_not_null() | by_address
        return sha256_hex(_finish(rows, self.columns, matchable), self.hashed_columns)


@dataclass(frozen=True)
class MetaCustomAudience:
    """Meta Custom Audience customer-list CSV; every key SHA-256 except EXTERN_ID (our contact_id).
    A row matches on email, phone, or first+last name."""

    name: str = "meta"
    min_size: int = 100
    format: str = "meta_custom_audience_csv"
    columns: list[str] = field(
        default_factory=lambda: ["EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "EXTERN_ID"]
    )
    hashed_columns: list[str] = field(
        default_factory=lambda: ["EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY"]
    )

    def render(self, members: pl.DataFrame) -> pl.DataFrame:
        """Members -> Meta customer-list rows (see class docstring)."""
        check_members(members, self.name)
        rows = select_normalized(
            _with_e164(members),
            normalize_email(pl.col("email")).alias("EMAIL"),
            meta_phone(pl.col("_e164")).alias("PHONE"),
            meta_name(pl.col("first_name"), "first").alias("FN"),
            meta_name(pl.col("last_name"), "last").alias("LN"),
            letters_only(pl.col("city")).alias("CT"),
            meta_state(pl.col("state"), pl.col("_cc")).alias("ST"),
            meta_zip(pl.col("zip"), pl.col("_cc")).alias("ZIP"),
            pl.col("_cc").str.to_lowercase().alias("COUNTRY"),
            blank_to_null(pl.col("contact_id")).alias("EXTERN_ID"),
        )
        matchable = pl.col("EMAIL").is_not_null() | pl.col("PHONE").is_not_null() | (
            pl.col("FN").is_not_null() & pl.col("LN").is_not_null()
        )
        return sha256_hex(_finish(rows, self.columns, matchable), self.hashed_columns)


@dataclass(frozen=True)
class LinkedInContacts:
    """LinkedIn Matched Audiences contact list; email SHA-256 (or plain, per config), the rest in clear.
    A row matches on email or first+last name."""

    name: str = "linkedin_contacts"
    min_size: int = 300
    email_hashing: str = "sha256"
    format: str = "linkedin_contact_list_csv"
    columns: list[str] = field(
        default_factory=lambda: ["email", "firstname", "lastname", "title", "employeecompany", "country"]
    )

    @property
    def hashed_columns(self) -> list[str]:
        """`email` when hashing is on, else nothing."""
        return ["email"] if self.email_hashing == "sha256" else []

    def render(self, members: pl.DataFrame) -> pl.DataFrame:
        """Members -> LinkedIn contact rows (see class docstring)."""
        check_members(members, self.name)
        rows = select_normalized(
            members,
            normalize_email(pl.col("email")).alias("email"),
            blank_to_null(pl.col("first_name")).alias("firstname"),
            blank_to_null(pl.col("last_name")).alias("lastname"),
            blank_to_null(pl.col("job_title")).alias("title"),
            blank_to_null(pl.col("account_name")).alias("employeecompany"),
            country_iso2(pl.col("country")).alias("country"),
        )
        matchable = pl.col("email").is_not_null() | (
            pl.col("firstname").is_not_null() & pl.col("lastname").is_not_null()
        )
        return sha256_hex(_finish(rows, self.columns, matchable), self.hashed_columns)


@dataclass(frozen=True)
class LinkedInCompanies:
    """LinkedIn company list: one row per account with a name, nothing hashed (company data is public)."""

    name: str = "linkedin_companies"
    min_size: int = 300
    format: str = "linkedin_company_list_csv"
    columns: list[str] = field(
        default_factory=lambda: [
            "companyname", "companywebsite", "companyemaildomain", "linkedincompanypageurl",
            "stocksymbol", "industry", "city", "state", "companycountry", "zipcode",
        ]
    )
    hashed_columns: list[str] = field(default_factory=list)

    def render(self, members: pl.DataFrame) -> pl.DataFrame:
        """Members -> one row per account (contacts of the same account collapse to one row)."""
        check_members(members, self.name)
        domain = blank_to_null(pl.col("account_domain")).str.to_lowercase()
        accounts = members.filter(blank_to_null(pl.col("account_id")).is_not_null())
        # Sorted first so the row kept per account does not depend on input order.
        accounts = accounts.sort(MEMBER_COLUMNS, nulls_last=True).unique("account_id", keep="first")
        rows = select_normalized(
            accounts,
            blank_to_null(pl.col("account_name")).alias("companyname"),
            domain.alias("companywebsite"),
            domain.alias("companyemaildomain"),
            pl.lit(None, pl.String).alias("linkedincompanypageurl"),  # not in the CRM contract
            pl.lit(None, pl.String).alias("stocksymbol"),
            blank_to_null(pl.col("industry")).alias("industry"),
            blank_to_null(pl.col("account_city")).alias("city"),
            blank_to_null(pl.col("account_state")).alias("state"),
            country_iso2(pl.col("account_country")).alias("companycountry"),
            blank_to_null(pl.col("account_zip")).alias("zipcode"),
        )
        return _finish(rows, self.columns, pl.col("companyname").is_not_null())


# format name in config/destinations.yaml -> how to build it from its config entry
FORMATS: dict[str, Callable[..., Destination]] = {
    "google_customer_match_csv": GoogleCustomerMatch,
    "meta_custom_audience_csv": MetaCustomAudience,
    "linkedin_contact_list_csv": LinkedInContacts,
    "linkedin_company_list_csv": LinkedInCompanies,
}
ALLOWED_KEYS = {"format", "min_size", "email_hashing"}
SAFE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def build_destinations(data: dict[str, Any], file: Path | str) -> dict[str, Destination]:
    """Destinations by name from the parsed `config/destinations.yaml`; ConfigError naming the key if wrong."""
    entries = require(data, "destinations", dict, Path(file))
    if not entries:
        raise ConfigError(file, "destinations", "declare at least one destination")
    built: dict[str, Destination] = {}
    for name, entry in entries.items():
        where = f"destinations.{name}"
        # The name becomes a folder under EXPORT_DIR: keep it to safe characters.
        if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
            raise ConfigError(file, where, "a destination name must be lowercase letters, digits and _")
        if not isinstance(entry, dict):
            raise ConfigError(file, where, "expected a mapping with format and min_size")
        unknown = sorted(set(entry) - ALLOWED_KEYS)
        if unknown:
            raise ConfigError(file, where, f"unknown keys {unknown}; allowed: {sorted(ALLOWED_KEYS)}")
        fmt = require_one_of(require(entry, "format", str, Path(file), where), set(FORMATS), file, f"{where}.format")
        min_size = require(entry, "min_size", int, Path(file), where)
        if min_size < 1:
            raise ConfigError(file, f"{where}.min_size", f"must be 1 or more, got {min_size}")
        options: dict[str, Any] = {"name": name, "min_size": min_size}
        if fmt == "linkedin_contact_list_csv":
            hashing = entry.get("email_hashing", "sha256")
            options["email_hashing"] = require_one_of(hashing, {"sha256", "plain"}, file, f"{where}.email_hashing")
        elif "email_hashing" in entry:
            raise ConfigError(file, f"{where}.email_hashing", "only linkedin_contact_list_csv has this option")
        built[name] = FORMATS[fmt](**options)
    return built


def load_destinations(config_dir: Path | None = None) -> dict[str, Destination]:
    """Read and validate `config/destinations.yaml` (folder overridable for tests)."""
    path, data = load_yaml(CONFIG_FILE, config_dir)
    return build_destinations(data, path)
