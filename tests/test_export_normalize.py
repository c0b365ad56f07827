"""Identifier normalisers: vectors built from the platforms' published rules (Google Data Manager /
Customer Match formatting guide, Meta customer-list formatting guide, LinkedIn template)."""
from __future__ import annotations

import hashlib

import polars as pl
import pytest

from assets.exports.normalize import (
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
    phone_e164,
    sha256_hex,
)


def apply(expr_fn, values, **kwargs):
    """Run a one-column normaliser over `values` and return the results as a list."""
    df = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return df.select(expr_fn(pl.col("v"), **kwargs).alias("out"))["out"].to_list()


def apply2(expr_fn, pairs):
    """Run a (value, country) normaliser over pairs and return the results as a list."""
    df = pl.DataFrame(pairs, schema={"v": pl.String, "cc": pl.String}, orient="row")
    return df.select(expr_fn(pl.col("v"), pl.col("cc")).alias("out"))["out"].to_list()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- email -------------------------------------------------------------------------------------------

def test_google_email_published_examples():
    # Google's own examples: gmail dots and +suffix go; other domains keep both, lowercased.
    assert apply(google_email, ["cloudy.sanfrancisco+shopping@gmail.com", "user.name+NYC@Example.com"]) == [
        "cloudysanfrancisco@gmail.com",
        "user.name+nyc@example.com",
    ]


def test_google_email_trim_lowercase_inner_whitespace_and_googlemail():
    assert apply(google_email, ["  Jane.Doe+Ads@GoogleMail.com ", "john doe@Acme.io", "A.B@GMAIL.COM"]) == [
        "janedoe@googlemail.com",
        "johndoe@acme.io",
        "ab@gmail.com",
    ]


@pytest.mark.parametrize("bad", ["", "   ", None, "not-an-email", "a@b", "two@@x.com", "+tag@gmail.com"])
def test_invalid_or_empty_email_is_null(bad):
    assert apply(google_email, [bad]) == [None]


def test_meta_email_trims_and_lowercases_but_keeps_gmail_dots():
    assert apply(normalize_email, ["  Jane.Doe+x@Gmail.com "]) == ["jane.doe+x@gmail.com"]
    assert apply(normalize_email, ["", None, "nobody"]) == [None, None, None]


# --- phone -------------------------------------------------------------------------------------------

E164_CASES = [
    ("(800)555-0100", "US", "+18005550100"),  # Google's documented example
    ("(415) 555-0199", "United States", "+14155550199"),
    ("415.555.0199", "USA", "+14155550199"),
    ("1-415-555-0199", "US", "+14155550199"),
    ("001 415 555 0199", "GB", "+14155550199"),  # international prefix wins over the contact's country
    ("415-555-0199 ext. 12", "US", "+14155550199"),
    ("020 7946 0958", "United Kingdom", "+442079460958"),
    ("+44 (0)20 7946 0958", None, "+442079460958"),
    ("0044 20 7946 0958", "UK", "+442079460958"),
    ("030 12345678", "Germany", "+493012345678"),
    ("+49 (0)30 12345678", None, "+493012345678"),
    ("030/12345678", "DEU", "+493012345678"),
    ("01 23 45 67 89", "France", "+33123456789"),
    ("01.23.45.67.89", "FR", "+33123456789"),
    ("0033 1 23 45 67 89", "fr", "+33123456789"),
    ("12", "US", None),  # too short to be a number
    ("555-0199", "US", None),  # no area code
    ("4155550199", None, None),  # national number, no country: could be anyone's
    ("", "US", None),
    (None, "US", None),
]


def test_phone_e164_us_gb_de_fr_formats():
    df = pl.DataFrame([(p, c) for p, c, _ in E164_CASES], schema={"phone": pl.String, "country": pl.String}, orient="row")
    df = df.with_columns(country_iso2(pl.col("country")).alias("cc"))
    assert phone_e164(df, "phone", "cc").to_list() == [want for _, _, want in E164_CASES]


def test_phone_e164_parses_unique_pairs_but_stays_aligned_with_rows():
    phones = ["(415) 555-0199", "020 7946 0958", "(415) 555-0199", None, "020 7946 0958"]
    df = pl.DataFrame({"phone": phones, "cc": ["US", "GB", "US", "US", "US"]})
    # the last row is the GB number with a US country: not a valid US number
    assert phone_e164(df, "phone", "cc").to_list() == ["+14155550199", "+442079460958", "+14155550199", None, None]


def test_meta_phone_is_digits_with_country_code_no_plus_no_leading_zero():
    assert apply(meta_phone, ["+442079460958", "+14155550199", None, ""]) == ["442079460958", "14155550199", None, None]


# --- names, city, state, zip, country ----------------------------------------------------------------

def test_google_names_lowercase_trimmed_without_prefix_or_suffix():
    assert apply(google_name, ["  Mrs. Mary  Ann ", "Dr Émilie", "Jean-Luc", "  "], part="first") == [
        "mary ann", "émilie", "jean-luc", None,
    ]
    assert apply(google_name, ["O'Brien Jr.", "Smith, III", "van der Berg"], part="last") == [
        "o'brien", "smith", "van der berg",
    ]


def test_google_name_rejects_unknown_part():
    with pytest.raises(ValueError, match="first' or 'last"):
        google_name(pl.col("v"), "middle")


def test_meta_names_letters_only_utf8_kept_and_composed():
    decomposed = "E\u0301milie"  # E + combining acute: must hash like the composed É
    assert apply(meta_name, [decomposed, "F.", "Mr. José María", "..."], part="first") == [
        "émilie", "f", "josémaría", None,
    ]
    assert apply(meta_name, ["O'Brien-Smith", "Müller Jr."], part="last") == ["obriensmith", "müller"]


def test_meta_city_no_spaces_or_punctuation():
    assert apply(letters_only, ["San Francisco", "St. Louis", "München", " ", None]) == [
        "sanfrancisco", "stlouis", "münchen", None, None,
    ]


def test_meta_state_two_letter_codes_for_us_names():
    pairs = [("California", "US"), ("CA", "US"), ("New York", None), ("Georgia", "US"), ("Bayern", "DE"),
             ("Île-de-France", "FR"), ("", "US")]
    assert apply2(meta_state, pairs) == ["ca", "ca", "ny", "ga", "bayern", "îledefrance", None]


def test_meta_zip_rules():
    pairs = [("94105-1234", "US"), ("94105", "US"), ("2134", "US"), ("abc", "US"), ("SW1A 1AA", "GB"),
             ("10115", "DE"), ("  ", "US"), (None, "GB")]
    assert apply2(meta_zip, pairs) == ["94105", "94105", "02134", None, "sw1a1aa", "10115", None, None]


def test_google_zip_in_clear():
    pairs = [("94105-1234", "US"), ("sw1a  1aa", "GB"), ("75008", "FR"), ("", "DE")]
    assert apply2(google_zip, pairs) == ["94105", "SW1A 1AA", "75008", None]


def test_country_names_and_codes_to_iso2():
    values = ["United States", "USA", "us", "U.S.A.", " germany ", "DE", "deu", "UK", "United Kingdom",
              "France", "Narnia", "", None]
    assert apply(country_iso2, values) == ["US", "US", "US", "US", "DE", "DE", "DE", "GB", "GB", "FR", None, None, None]


# --- hashing -----------------------------------------------------------------------------------------

def test_sha256_hex_matches_hashlib_and_leaves_empty_cells_empty():
    df = pl.DataFrame({"h": ["abc", "émilie", "", None], "clear": ["a", "b", "c", "d"]})
    out = sha256_hex(df, ["h"])
    assert out["h"].to_list() == [
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",  # FIPS 180-2 test vector
        sha("émilie"),
        None,  # never sha256("") = e3b0c442...
        None,
    ]
    assert out["clear"].to_list() == ["a", "b", "c", "d"]
    assert out.columns == ["h", "clear"]


def test_sha256_hex_of_repeated_values_keeps_every_row_in_place():
    """Each distinct value is hashed once and joined back: rows keep their order and their own values,
    a value shared by two columns hashes the same in both, numbers hash as their text."""
    names = ["ann", "bob", "ann", None, "", "bob", "cy"] * 3
    df = pl.DataFrame({"fn": names, "ln": list(reversed(names)), "n": list(range(21)), "id": list(range(21))})
    out = sha256_hex(df, ["fn", "ln", "n"])
    hashed = lambda values: [sha(v) if v not in (None, "") else None for v in values]  # noqa: E731
    assert out["fn"].to_list() == hashed(names)
    assert out["ln"].to_list() == hashed(list(reversed(names)))
    assert out["n"].to_list() == hashed([str(i) for i in range(21)])
    assert out["id"].to_list() == list(range(21))
    assert out.columns == ["fn", "ln", "n", "id"]


def test_sha256_hex_of_empty_frame_and_missing_column():
    empty = pl.DataFrame(schema={"h": pl.String})
    assert sha256_hex(empty, ["h"]).height == 0
    with pytest.raises(KeyError, match="not in the frame"):
        sha256_hex(empty, ["email"])
