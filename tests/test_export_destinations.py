"""Destination renderers (exact templates, hashing, dropped rows) and config/destinations.yaml."""
from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.exports.destinations import (
    MEMBER_COLUMNS,
    GoogleCustomerMatch,
    LinkedInCompanies,
    LinkedInContacts,
    MetaCustomAudience,
    add_phone_e164,
    load_destinations,
)
from assets.exports.publish_files import check_no_clear_text

EMPTY_HASH = hashlib.sha256(b"").hexdigest()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def members(*rows: dict) -> pl.DataFrame:
    """A members frame with every documented column; unspecified cells are NULL."""
    return pl.DataFrame([{c: row.get(c) for c in MEMBER_COLUMNS} for row in rows], schema={c: pl.String for c in MEMBER_COLUMNS})


JANE = dict(
    contact_id="c1", email=" Jane.Doe+promo@Gmail.com ", phone="(415) 555-0199", first_name=" Jane ",
    last_name="O'Neil", job_title="VP Marketing", city="San Francisco", state="California", zip="94105-1234",
    country="United States", account_id="a1", account_name="Acme Inc", account_domain="Acme.com",
    industry="Software", account_city="San Francisco", account_state="CA", account_country="USA", account_zip="94105",
)
HANS = dict(
    contact_id="c2", email="hans@firma.de", phone="030 12345678", first_name="Hans", last_name="Müller",
    job_title="CMO", city="Berlin", state="Berlin", zip="10115", country="Germany", account_id="a2",
    account_name="Firma GmbH", account_domain="firma.de", account_country="Germany",
)
NOBODY = dict(contact_id="c3", first_name="Only", job_title="Intern", account_id="a1", account_name="Acme Inc")


def all_cells(df: pl.DataFrame) -> set:
    return {v for col in df.columns for v in df[col].to_list()}


def test_google_ads_template_hashes_and_clear_columns():
    out = GoogleCustomerMatch().render(members(JANE, HANS, NOBODY))
    assert out.columns == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    jane = out.filter(pl.col("Country") == "US").row(0, named=True)
    assert jane == {
        "Email": sha("janedoe@gmail.com"),
        "Phone": sha("+14155550199"),
        "First Name": sha("jane"),
        "Last Name": sha("o'neil"),
        "Country": "US",
        "Zip": "94105",
    }
    assert out.filter(pl.col("Country") == "DE")["Phone"].to_list() == [sha("+493012345678")]
    assert out.height == 2  # NOBODY has no email, phone or full name + address: dropped
    assert check_no_clear_text(out) == []
    assert EMPTY_HASH not in all_cells(out)


def test_google_ads_keeps_address_only_rows_and_collapses_duplicates():
    address_only = dict(first_name="Ann", last_name="Lee", country="US", zip="10001")
    out = GoogleCustomerMatch().render(members(address_only, {**address_only, "contact_id": "other"}))
    assert out.rows() == [(None, None, sha("ann"), sha("lee"), "US", "10001")]


def test_meta_template_every_key_hashed_but_extern_id():
    out = MetaCustomAudience().render(members(JANE, NOBODY))
    assert out.columns == ["EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "EXTERN_ID"]
    assert out.row(0, named=True) == {
        "EMAIL": sha("jane.doe+promo@gmail.com"),  # Meta: no gmail dot/plus rule
        "PHONE": sha("14155550199"),
        "FN": sha("jane"),
        "LN": sha("oneil"),
        "CT": sha("sanfrancisco"),
        "ST": sha("ca"),
        "ZIP": sha("94105"),
        "COUNTRY": sha("us"),
        "EXTERN_ID": "c1",
    }
    assert out.height == 1
    assert check_no_clear_text(out) == []


def test_meta_missing_fields_are_empty_not_hash_of_empty():
    out = MetaCustomAudience().render(members(dict(contact_id="c9", email="x@y.com")))
    row = out.row(0, named=True)
    assert row["EMAIL"] == sha("x@y.com")
    assert [row[k] for k in ("PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY")] == [None] * 7
    assert EMPTY_HASH not in all_cells(out)


def test_linkedin_contacts_hashes_email_by_default_and_plain_on_request():
    hashed = LinkedInContacts().render(members(JANE, NOBODY))
    assert hashed.columns == ["email", "firstname", "lastname", "title", "employeecompany", "country"]
    assert hashed.rows() == [(sha("jane.doe+promo@gmail.com"), "Jane", "O'Neil", "VP Marketing", "Acme Inc", "US")]
    plain = LinkedInContacts(email_hashing="plain").render(members(JANE))
    assert plain["email"].to_list() == ["jane.doe+promo@gmail.com"]
    assert plain.row(0)[1:] == hashed.row(0)[1:]


def test_linkedin_contacts_name_only_rows_are_kept():
    out = LinkedInContacts().render(members(dict(first_name="Ann", last_name="Lee")))
    assert out.rows() == [(None, "Ann", "Lee", None, None, None)]


def test_linkedin_companies_one_row_per_account_not_hashed():
    out = LinkedInCompanies().render(members(JANE, NOBODY, HANS, dict(account_id="a4")))
    assert out.columns == [
        "companyname", "companywebsite", "companyemaildomain", "linkedincompanypageurl", "stocksymbol",
        "industry", "city", "state", "companycountry", "zipcode",
    ]
    assert sorted(out.rows()) == [
        ("Acme Inc", "acme.com", "acme.com", None, None, "Software", "San Francisco", "CA", "US", "94105"),
        ("Firma GmbH", "firma.de", "firma.de", None, None, None, None, None, "DE", None),
    ]  # a4 has no company name: LinkedIn requires one


def test_render_names_missing_member_columns():
    with pytest.raises(ValueError, match=r"lacks columns \['phone'\]"):
        GoogleCustomerMatch().render(members(JANE).drop("phone"))


def test_check_no_clear_text_flags_emails_and_phones_but_not_ids():
    bad = pl.DataFrame({"Email": ["jane@acme.com"], "Phone": ["+1 (415) 555-0199"], "EXTERN_ID": ["4155550199"]})
    problems = check_no_clear_text(bad)
    assert len(problems) == 2 and "'Email'" in problems[0] and "'Phone'" in problems[1]



def test_check_no_clear_text_finds_every_email_and_phone_among_hashes():
    # the check runs its patterns only on cells that could match: the skipped cells must not hide any
    cells = ["a" * 64, "0123456789abcdef" * 4, "jane@acme.com", "@handle", "x@y", "415.555.0199",
             "+44 20 7946 0958", "(415) 555-0199 ext 7", "555-0199", "4155550199", None, "", "+1-415-555-0199"]
    problems = check_no_clear_text(pl.DataFrame({"EMAIL": cells, "PHONE": list(reversed(cells))}))
    assert problems == [
        "column 'EMAIL': 1 clear-text email value(s)", "column 'EMAIL': 4 clear-text phone value(s)",
        "column 'PHONE': 1 clear-text email value(s)", "column 'PHONE': 4 clear-text phone value(s)",
    ]
    assert check_no_clear_text(pl.DataFrame({"EMAIL": ["a" * 64], "EXTERN_ID": ["4155550199"]})) == []


# --- config/destinations.yaml ------------------------------------------------------------------------

def test_shipped_config_loads_with_platform_minimums():
    destinations = load_destinations()
    assert {name: d.min_size for name, d in destinations.items()} == {
        "google_ads": 100, "meta": 100, "linkedin_contacts": 300, "linkedin_companies": 300,
    }
    assert destinations["linkedin_contacts"].email_hashing == "sha256"
    assert isinstance(destinations["meta"], MetaCustomAudience)


def write_config(tmp_path: Path, destinations) -> Path:
    (tmp_path / "destinations.yaml").write_text(yaml.safe_dump({"destinations": destinations}), encoding="utf-8")
    return tmp_path


def test_config_plain_linkedin_email(tmp_path):
    config = {"li": {"format": "linkedin_contact_list_csv", "min_size": 300, "email_hashing": "plain"}}
    assert load_destinations(write_config(tmp_path, config))["li"].hashed_columns == []


@pytest.mark.parametrize(
    "entry, where",
    [
        ({"format": "tiktok_csv", "min_size": 100}, "destinations.x.format"),
        ({"format": "google_customer_match_csv", "min_size": "100"}, "destinations.x.min_size"),
        ({"format": "google_customer_match_csv", "min_size": 0}, "destinations.x.min_size"),
        ({"format": "google_customer_match_csv"}, "destinations.x.min_size"),
        ({"min_size": 100}, "destinations.x.format"),
        ({"format": "linkedin_contact_list_csv", "min_size": 300, "email_hashing": "md5"}, "destinations.x.email_hashing"),
        ({"format": "meta_custom_audience_csv", "min_size": 100, "email_hashing": "plain"}, "destinations.x.email_hashing"),
        ({"format": "meta_custom_audience_csv", "min_size": 100, "minsize": 1}, "destinations.x"),
        ("meta", "destinations.x"),
    ],
)
def test_config_errors_name_the_key(tmp_path, entry, where):
    with pytest.raises(ConfigError) as err:
        load_destinations(write_config(tmp_path, {"x": entry}))
    assert err.value.where == where
    assert "destinations.yaml" in str(err.value)


@pytest.mark.parametrize("content", ["destinations: {}\n", "other: 1\n", "destinations:\n  ../evil: {format: meta_custom_audience_csv, min_size: 1}\n"])
def test_config_errors_for_empty_missing_or_unsafe_names(tmp_path, content):
    (tmp_path / "destinations.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="destinations"):
        load_destinations(tmp_path)


def test_precomputed_phone_column_is_used_and_matches():
    frame = members(JANE, HANS)
    with_phone = add_phone_e164(frame)
    assert with_phone["phone_e164"].to_list() == ["+14155550199", "+493012345678"]
    assert GoogleCustomerMatch().render(with_phone).equals(GoogleCustomerMatch().render(frame))
    # the renderer trusts the precomputed column (so it is parsed once per audience)
    overridden = with_phone.with_columns(pl.lit("+442079460958").alias("phone_e164"))
    assert set(MetaCustomAudience().render(overridden)["PHONE"]) == {sha("442079460958")}
