"""Identifier normalisers for ad-platform uploads, and SHA-256 hashing of whole columns.

Every function works on whole frames (Polars expressions, one DuckDB pass for hashing); nothing loops
over contacts in Python except phone parsing, which needs the `phonenumbers` library: it runs once per
UNIQUE (cleaned phone, country) pair and the result is joined back (about 75 µs a pair, so ~75 s for a
million distinct numbers; an audience is usually far smaller).

Rules (published by the platforms, summarised in `shared/STACK_NOTES.md` "Ad-platform facts"):
- An empty or invalid input becomes NULL (an empty cell), never the hash of an empty string.
- Email: trim, lowercase, remove inner whitespace; must look like `local@domain.tld` or it is dropped.
  Google only: for gmail.com / googlemail.com remove dots and any `+suffix` in the local part.
- Phone: E.164 with `+` (Google); Meta wants the same digits without `+` (E.164 never has leading zeros).
  Numbers are parsed with the contact's country; a number starting with `+` or `00` carries its own.
  Numbers that `phonenumbers` does not consider valid are dropped: they cannot match anyone.
- Country: ISO-3166 alpha-2 from a code, an ISO-3 code or a common English name (`COUNTRY_ALIASES`).
"""
from __future__ import annotations

from typing import Sequence

import duckdb
import phonenumbers
import polars as pl

# Regions `phonenumbers` knows are exactly the ISO-3166 alpha-2 codes we can use for phone parsing.
ISO2_CODES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)

# Names and ISO-3 codes seen in CRM exports -> ISO-2. Keys are lowercase with dots removed and
# whitespace collapsed (see `country_iso2`). Add a line here when a new spelling shows up.
COUNTRY_ALIASES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "u s a": "US", "america": "US",
    "us of a": "US", "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "gbr": "GB", "germany": "DE",
    "deutschland": "DE", "deu": "DE", "france": "FR", "fra": "FR", "canada": "CA", "can": "CA",
    "australia": "AU", "aus": "AU", "ireland": "IE", "irl": "IE", "netherlands": "NL",
    "the netherlands": "NL", "holland": "NL", "nld": "NL", "belgium": "BE", "spain": "ES", "espana": "ES",
    "españa": "ES", "esp": "ES", "italy": "IT", "italia": "IT", "ita": "IT", "portugal": "PT",
    "switzerland": "CH", "che": "CH", "austria": "AT", "österreich": "AT", "sweden": "SE", "swe": "SE",
    "norway": "NO", "nor": "NO", "denmark": "DK", "dnk": "DK", "finland": "FI", "fin": "FI",
    "poland": "PL", "pol": "PL", "czech republic": "CZ", "czechia": "CZ", "india": "IN", "ind": "IN",
    "japan": "JP", "jpn": "JP", "china": "CN", "chn": "CN", "singapore": "SG", "sgp": "SG",
    "brazil": "BR", "brasil": "BR", "bra": "BR", "mexico": "MX", "méxico": "MX", "mex": "MX",
    "new zealand": "NZ", "nzl": "NZ", "south africa": "ZA", "zaf": "ZA", "israel": "IL", "isr": "IL",
    "united arab emirates": "AE", "uae": "AE", "south korea": "KR", "korea": "KR",
    "republic of korea": "KR", "kor": "KR",
}

# US state and territory names (lowercase, letters only) -> USPS code, for Meta's ST key.
US_STATES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "districtofcolumbia": "DC",
    "washingtondc": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
    "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
    "nevada": "NV", "newhampshire": "NH", "newjersey": "NJ", "newmexico": "NM", "newyork": "NY",
    "northcarolina": "NC", "northdakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhodeisland": "RI", "southcarolina": "SC", "southdakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "westvirginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puertorico": "PR", "guam": "GU", "americansamoa": "AS", "virginislands": "VI",
    "usvirginislands": "VI", "northernmarianaislands": "MP",
}

# Google: "don't include prefixes such as Mrs." / "suffixes such as Jr." (Data Manager API guide).
NAME_PREFIX = r"^(?:mr|mrs|ms|miss|mx|dr|prof)\.?\s+"
NAME_SUFFIX = r",?\s+(?:jr|sr|ii|iii|iv|phd|md)\.?$"
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NOT_LETTER = r"[^\p{L}\p{M}]"  # Meta: no punctuation, no spaces, UTF-8 letters kept
PHONE_EXTENSION = r"(?i)\s*(?:ext\.?|extension|x|#)\s*\d+\s*$"


def select_normalized(df: pl.DataFrame, *exprs: pl.Expr) -> pl.DataFrame:
    """`df.select(*exprs)` with each shared sub-expression computed once. The normalisers build on
    each other (google_email uses normalize_email three times) and an eager select evaluates every copy;
    a lazy one shares them: 1M emails to their Google match keys 1.3s -> 0.55s, same values."""
    return df.lazy().select(*exprs).collect()


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, with an empty result as NULL (so nothing downstream hashes an empty string)."""
    trimmed = expr.cast(pl.String).str.strip_chars()
    return pl.when(trimmed.str.len_chars() > 0).then(trimmed).otherwise(None)


def country_iso2(expr: pl.Expr) -> pl.Expr:
    """ISO-3166 alpha-2 (uppercase) from an ISO-2/ISO-3 code or a common English name; NULL if unknown."""
    key = (
        expr.cast(pl.String).str.strip_chars().str.to_lowercase()
        .str.replace_all(r"\.", "").str.replace_all(r"\s+", " ")
    )
    mapping = {code.lower(): code for code in ISO2_CODES} | COUNTRY_ALIASES
    return key.replace_strict(mapping, default=None, return_dtype=pl.String)


def normalize_email(expr: pl.Expr) -> pl.Expr:
    """Trim, lowercase, remove inner whitespace; NULL unless it looks like `local@domain.tld`."""
    email = expr.cast(pl.String).str.to_lowercase().str.replace_all(r"\s+", "")
    return pl.when(email.str.contains(EMAIL_SHAPE)).then(email).otherwise(None)


def google_email(expr: pl.Expr) -> pl.Expr:
    """`normalize_email`, then for gmail.com/googlemail.com drop dots and any `+suffix` in the local part."""
    email = normalize_email(expr)
    local, domain = email.str.extract(r"^(.*)@", 1), email.str.extract(r"@(.*)$", 1)
    gmail_local = local.str.replace(r"\+.*$", "").str.replace_all(r"\.", "")
    is_gmail = domain.is_in(["gmail.com", "googlemail.com"])
    fixed = pl.when(is_gmail).then(pl.concat_str(gmail_local, pl.lit("@"), domain)).otherwise(email)
    # "+tag@gmail.com" has an empty local part once the tag is gone: nothing left to match.
    return pl.when(is_gmail & (gmail_local.str.len_chars() == 0)).then(None).otherwise(fixed)


def name_without_affixes(expr: pl.Expr, part: str) -> pl.Expr:
    """Lowercase (NFC), trimmed, single-spaced name without a prefix (first: Mrs.) or suffix (last: Jr.)."""
    if part not in ("first", "last"):
        raise ValueError(f"name_without_affixes: part must be 'first' or 'last', got {part!r}")
    name = expr.cast(pl.String).str.normalize("NFC").str.to_lowercase().str.strip_chars()
    name = name.str.replace_all(r"\s+", " ")
    return name.str.replace(NAME_PREFIX, "") if part == "first" else name.str.replace(NAME_SUFFIX, "")


def google_name(expr: pl.Expr, part: str) -> pl.Expr:
    """Google first/last name: trim, lowercase, single spaces, without a prefix (first) or suffix (last).

    Punctuation inside a name (O'Brien, Jean-Luc) is kept: Google's Data Manager API (the Customer
    Match successor) asks only for lowercase, trimmed values without prefixes/suffixes.
    """
    return blank_to_null(name_without_affixes(expr, part))


def letters_only(expr: pl.Expr) -> pl.Expr:
    """Lowercase Unicode letters only (NFC), NULL if none: Meta's CT rule (no spaces, no punctuation)."""
    text = expr.cast(pl.String).str.normalize("NFC").str.to_lowercase().str.replace_all(NOT_LETTER, "")
    return blank_to_null(text)


def meta_name(expr: pl.Expr, part: str) -> pl.Expr:
    """Meta FN/LN: lowercase letters only (accents kept, no punctuation or spaces), prefix/suffix dropped."""
    return letters_only(name_without_affixes(expr, part))


def meta_state(state: pl.Expr, country: pl.Expr) -> pl.Expr:
    """Meta ST: lowercase 2-letter code; US state names become their code, other regions letters only.

    `country` is the ISO-2 country; a NULL country is treated as the US for names only.
    """
    key = letters_only(state)
    us_code = key.replace_strict({k: v.lower() for k, v in US_STATES.items()}, default=None)
    us_like = country.is_null() | (country == "US")
    return pl.when(us_like & us_code.is_not_null()).then(us_code).otherwise(key)


def _us_zip5(zip_text: pl.Expr) -> pl.Expr:
    """First 5 digits of a US ZIP (ZIP+4 too); 3-4 digit values regain the leading zeros a
    spreadsheet stripped (Boston 2134 -> 02134). Anything else is NULL."""
    digits_only = zip_text.str.replace_all(r"\s+", "")
    zfilled = pl.when(digits_only.str.contains(r"^\d{3,4}$")).then(digits_only.str.zfill(5))
    return zfilled.otherwise(digits_only.str.extract(r"^(\d{5})(?:-?\d{4})?$", 1))


def google_zip(zip_code: pl.Expr, country: pl.Expr) -> pl.Expr:
    """Google Zip (sent in clear): trimmed, single spaces, uppercase; US: 5 digits."""
    text = blank_to_null(zip_code).str.replace_all(r"\s+", " ").str.to_uppercase()
    return pl.when(country == "US").then(_us_zip5(text)).otherwise(text)


def meta_zip(zip_code: pl.Expr, country: pl.Expr) -> pl.Expr:
    """Meta ZIP: lowercase, no spaces; US: first 5 digits."""
    text = blank_to_null(zip_code).str.to_lowercase().str.replace_all(r"\s+", "")
    return blank_to_null(pl.when(country == "US").then(_us_zip5(text)).otherwise(text))


def clean_phone(expr: pl.Expr) -> pl.Expr:
    """Keep `+` and digits (`00` international prefix -> `+`, extension dropped); NULL if no digits."""
    text = expr.cast(pl.String).str.strip_chars().str.replace(PHONE_EXTENSION, "")
    text = text.str.replace_all(r"[^\d+]", "").str.replace(r"^00", "+")
    return pl.when(text.str.contains(r"\d")).then(text).otherwise(None)


def _parse_e164(phone: str, region: str | None) -> str | None:
    """One number to E.164 (`+...`), or None when it cannot be parsed or is not a valid number."""
    if not phone.startswith("+") and region is None:
        return None  # a national number without a country could be anyone's
    try:
        number = phonenumbers.parse(phone, None if phone.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PHONE_PARSER = f"phonenumbers {phonenumbers.__version__}"  # results are only as valid as its metadata


def parse_phone_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """`pairs` (distinct `_phone` (cleaned), `_cc` (ISO-2 or NULL)) plus `_e164`: phonenumbers once
    per pair (~30 µs each, the slow step of audiences and exports; see assets/exports/phone_cache.py)."""
    parsed = [_parse_e164(p, cc) for p, cc in pairs.select("_phone", "_cc").iter_rows()]
    return pairs.with_columns(pl.Series("_e164", parsed, dtype=pl.String))


def phone_e164(df: pl.DataFrame, phone: str, country: str, parse_pairs=parse_phone_pairs) -> pl.Series:
    """E.164 (`+14155550199`) per row of `df`, from raw `phone` text and an ISO-2 `country` column.

    `parse_pairs` (default: `parse_phone_pairs`; a warehouse cache in the nightly job) gets each unique
    (cleaned phone, country) pair once; results are joined back, so the output is aligned with `df`.
    Unparseable or invalid numbers are NULL.
    """
    keys = df.select(clean_phone(pl.col(phone)).alias("_phone"), pl.col(country).cast(pl.String).alias("_cc"))
    pairs = keys.drop_nulls("_phone").unique()
    lookup = parse_pairs(pairs).select("_phone", "_cc", "_e164")
    joined = keys.join(lookup, on=["_phone", "_cc"], how="left", nulls_equal=True, maintain_order="left")
    return joined["_e164"].alias(phone)


def meta_phone(e164: pl.Expr) -> pl.Expr:
    """Meta PHONE from E.164: digits only with the country code, no `+`, no leading zeros."""
    return blank_to_null(e164.str.replace_all(r"\D", "").str.strip_chars_start("0"))


HASH_COLUMN = "__sha256"  # sha256_hex's lookup column (a name no frame of ours uses)


def sha256_hex(df: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Replace `columns` of `df` by the lowercase SHA-256 hex of their UTF-8 text.

    NULL and empty strings stay NULL: an empty cell, never the hash of "". Other columns are untouched.
    Each distinct value is hashed once, in one DuckDB pass, and joined back: names, cities, zips and
    countries repeat a lot, so that is half the hashing of hashing every cell.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"sha256_hex: columns {missing} are not in the frame (has {df.columns})")
    as_text = df.with_columns(pl.col(c).cast(pl.String) for c in columns)
    if df.is_empty() or not columns:
        return as_text
    values = pl.concat([as_text.select(pl.col(c).alias("value")) for c in columns]).drop_nulls().unique()
    value = duckdb.ColumnExpression("value")
    digest = duckdb.FunctionExpression("sha256", duckdb.FunctionExpression("nullif", value, duckdb.ConstantExpression("")))
    with duckdb.connect() as con:
        hashes = con.from_arrow(values.to_arrow()).select(value, digest.alias(HASH_COLUMN)).pl()
    for name in columns:
        joined = as_text.join(hashes.rename({"value": name}), on=name, how="left", maintain_order="left")
        as_text = joined.with_columns(pl.col(HASH_COLUMN).alias(name)).drop(HASH_COLUMN)
    return as_text
